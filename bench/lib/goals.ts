/**
 * What a scenario hands back to the runner for the final summary: one row per goal of issue 5
 * (or per informative figure, with `met` undefined). Scenarios may return `{ goals: Goal[] }`;
 * the runner prints every row it gets, in order.
 */
export interface Goal {
  /** The goal in words, e.g. "chain: engine overhead per task". */
  name: string;
  /** The measured figure with its unit, e.g. "2.4 ms". */
  measured: string;
  /** The target with its unit, e.g. "< 3 ms". */
  goal: string;
  /** undefined: informative only (no target), or the scenario could not decide. */
  met: boolean | undefined;
}

export interface ScenarioResult {
  goals: Goal[];
}

/** A goal "value below limit"; NaN (not measured) counts as missed. */
export function below(name: string, value: number, limit: number, unit: string, digits = 1): Goal {
  return {
    name,
    measured: Number.isFinite(value) ? `${value.toFixed(digits)} ${unit}` : 'not measured',
    goal: `< ${limit} ${unit}`,
    met: Number.isFinite(value) ? value < limit : false,
  };
}

export function info(name: string, measured: string): Goal {
  return { name, measured, goal: '—', met: undefined };
}
