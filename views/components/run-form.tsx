/** @jsxImportSource hono/jsx */
import type { InputDecl } from '../../src/workflow/spec.ts';
import { workflowHref } from '../render.tsx';
import { fieldName, JSON_FIELD } from '../run-form-values.ts';

const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

function Field({ name, decl }: { name: string; decl: InputDecl }) {
  const id = `in-${name}`;
  const type = decl.type ?? 'string';
  const field = fieldName(name);
  const hint = [type, decl.required ? 'required' : 'optional', decl.description].filter(Boolean).join(' · ');
  let control: unknown;
  if (decl.enum) {
    const chosen =
      decl.default === undefined ? -1 : decl.enum.findIndex((o) => show(o) === show(decl.default));
    control = (
      <select id={id} name={field} required={decl.required === true}>
        {!decl.required && <option value="">—</option>}
        {decl.enum.map((option, i) => (
          <option value={String(i)} selected={i === chosen}>
            {show(option)}
          </option>
        ))}
      </select>
    );
  } else if (type === 'boolean') {
    control = <input id={id} type="checkbox" name={field} value="true" checked={decl.default === true} />;
  } else if (type === 'array' || type === 'object') {
    control = (
      <textarea
        id={id}
        name={field}
        rows={3}
        class="mono"
        required={decl.required === true}
        spellcheck={false}
      >
        {decl.default === undefined ? '' : JSON.stringify(decl.default, null, 2)}
      </textarea>
    );
  } else {
    const numeric = type === 'number' || type === 'integer';
    control = (
      <input
        id={id}
        name={field}
        type={numeric ? 'number' : 'text'}
        step={type === 'integer' ? '1' : numeric ? 'any' : undefined}
        value={decl.default === undefined ? undefined : show(decl.default)}
        required={decl.required === true}
        autocomplete="off"
      />
    );
  }
  return (
    <div class={`field${type === 'boolean' ? ' field-check' : ''}`}>
      <label for={id}>{name}</label>
      {control}
      <span class="hint">{hint}</span>
    </div>
  );
}

/**
 * A "Run" form generated from the workflow's declared manual inputs (typed fields, defaults filled
 * in); without declared inputs, an optional JSON object. Works as a plain form without htmx too.
 */
export function RunForm({ name, inputs }: { name: string; inputs: Record<string, InputDecl> | undefined }) {
  const action = `${workflowHref(name)}/runs`;
  const declared = Object.entries(inputs ?? {});
  return (
    <form
      class="card run-form"
      method="post"
      action={action}
      hx-post={action}
      hx-target="#run-form-result"
      hx-swap="innerHTML"
      hx-disabled-elt="find button"
    >
      <h2>Run</h2>
      {declared.length > 0 ? (
        <div class="fields">
          {declared.map(([n, d]) => (
            <Field name={n} decl={d} />
          ))}
        </div>
      ) : (
        <details class="json-inputs">
          <summary>Inputs (JSON, optional)</summary>
          <textarea
            name={JSON_FIELD}
            rows={4}
            class="mono"
            spellcheck={false}
            aria-label="Inputs as a JSON object"
          >
            {'{}'}
          </textarea>
        </details>
      )}
      <div class="actions">
        <button type="submit" class="btn btn-primary">
          <span aria-hidden="true">▶ </span>Run {name}
        </button>
        <span class="htmx-indicator muted">starting…</span>
      </div>
      <div id="run-form-result" aria-live="polite" />
    </form>
  );
}
