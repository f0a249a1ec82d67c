import { normalizeWorkflow } from '../../src/workflow/normalize.ts';
import { workflowFileSchema } from '../../src/workflow/spec.ts';
import type { Workflow } from '../../src/workflow/types.ts';

/** A Workflow from a plain object in the YAML shape, without going through the file loader. */
export function makeWorkflow(file: Record<string, unknown>, name = 'test'): Workflow {
  const parsed = workflowFileSchema.parse(file);
  return normalizeWorkflow(parsed, { defaultName: name, file: `${name}.yaml`, source: JSON.stringify(file) });
}
