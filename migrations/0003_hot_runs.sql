ALTER TABLE "task_logs" DROP CONSTRAINT "task_logs_run_id_runs_id_fk";
--> statement-breakpoint
ALTER TABLE "task_runs" DROP CONSTRAINT "task_runs_run_id_runs_id_fk";
--> statement-breakpoint
DROP INDEX "runs_status_lease";--> statement-breakpoint
CREATE INDEX "runs_unfinished" ON "runs" USING btree ("created_at","id") WHERE "runs"."finished_at" is null;--> statement-breakpoint
-- Room on each page for the new row versions of claims and heartbeats (HOT updates).
ALTER TABLE "runs" SET (fillfactor = 70);
