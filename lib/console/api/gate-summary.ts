/**
 * A gate decision in one line: the verdict, the first rule it broke and how many more. The gate
 * (lib/core/gate/policy.ts) lists its reasons in the order it checks them, failures and notes mixed;
 * the notes have fixed wordings, recognised here, so the first reason that is not a note is the
 * first failing rule.
 */

/** The gate's wordings of reasons that are notes, not failures. */
const NOTES: readonly RegExp[] = [
  /^PASS: /,
  /^no live model yet: /,
  /^no baselines were evaluated$/,
  /beats the best baseline .*; 95% interval of the difference \[/,
  / above the live model /,
  /within the allowed .* regression$/,
];

export interface GateSummary {
  readonly pass: boolean;
  /** PASS, or the first failing rule. */
  readonly headline: string;
  /** Failing rules after the first. */
  readonly more: number;
  readonly failures: readonly string[];
  readonly reasons: readonly string[];
}

/** Summarizes a decision's reasons: the first failure and how many more, or PASS. */
export function summarizeGate(decision: { readonly pass: boolean; readonly reasons: readonly string[] }): GateSummary {
  const failures = decision.reasons.filter((r) => !NOTES.some((note) => note.test(r)));
  return {
    pass: decision.pass,
    headline: decision.pass ? 'PASS' : (failures[0] ?? decision.reasons[0] ?? 'rejected (no reason recorded)'),
    more: decision.pass ? 0 : Math.max(0, failures.length - 1),
    failures: decision.pass ? [] : failures,
    reasons: decision.reasons,
  };
}
