CREATE TABLE "poll_seen" (
	"workflow" text NOT NULL,
	"key" text NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "poll_seen_workflow_key_pk" PRIMARY KEY("workflow","key")
);
--> statement-breakpoint
CREATE TABLE "pollers" (
	"workflow" text PRIMARY KEY NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"primed" boolean DEFAULT false NOT NULL,
	"next_poll_at" timestamp with time zone,
	"last_polled_at" timestamp with time zone,
	"last_success_at" timestamp with time zone,
	"failures" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"last_new_items" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "schedule_backlog" (
	"workflow" text NOT NULL,
	"entry" text NOT NULL,
	"scheduled_at" timestamp with time zone NOT NULL,
	"catchup" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedule_backlog_workflow_entry_scheduled_at_pk" PRIMARY KEY("workflow","entry","scheduled_at")
);
--> statement-breakpoint
CREATE TABLE "schedule_cursors" (
	"workflow" text NOT NULL,
	"entry" text NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedule_cursors_workflow_entry_pk" PRIMARY KEY("workflow","entry")
);
--> statement-breakpoint
CREATE TABLE "schedule_pauses" (
	"workflow" text PRIMARY KEY NOT NULL,
	"paused_at" timestamp with time zone DEFAULT now() NOT NULL
);
