/**
 * `shelves status` in compact form: per shelf, one line with the endpoint's pointers, then one line
 * per version (kind, status, primary metric, the gate in one line: PASS, or the first failing rule and
 * how many more) and one line per run (status, duration, reason), each cut to the terminal's width.
 */
import type { EndpointRecord } from '../aws/endpoints.ts';
import type { ModelVersion, RunRecord } from '../aws/registry.ts';
import { summarizeGate } from './api/gate-summary.ts';

export interface ShelfStatus {
  readonly shelf: string;
  readonly endpoint: EndpointRecord;
  readonly versions: readonly ModelVersion[];
  readonly runs: readonly RunRecord[];
}

/** The metric shown per version (the gate's primary metric for every shelf). */
const METRIC = 'ndcg@10';

const minute = (iso: string): string => iso.slice(0, 16).replace('T', ' ');
const cut = (line: string, width: number): string => (line.length <= width ? line : `${line.slice(0, Math.max(1, width - 1))}…`);

function seconds(run: RunRecord): string {
  if (run.finishedAt === undefined) return '–';
  const s = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
  return s >= 90 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`;
}

/** The compact lines of every shelf, oldest version and run first, each at most `width` characters. */
export function compactStatus(shelves: readonly ShelfStatus[], width = 160): string {
  const out: string[] = [];
  for (const { shelf, endpoint: e, versions, runs } of shelves) {
    out.push(
      cut(
        `${shelf.padEnd(10)} live ${e.liveVersion ?? '–'} · canary ${e.canaryVersion ? `${e.canaryVersion} (${Math.round(e.canaryWeight * 100)}%)` : '–'} · previous ${e.previousVersion ?? '–'} · rev ${e.revision}`,
        width,
      ),
    );
    const vw = Math.max(0, ...versions.map((v) => v.versionId.length));
    for (const v of [...versions].sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
      const gate = summarizeGate(v.decision);
      const metric = v.metrics[METRIC];
      out.push(
        cut(
          `  version ${v.versionId.padEnd(vw)}  ${v.kind.padEnd(16)} ${v.status.padEnd(11)} ${minute(v.createdAt)}  ${METRIC} ${metric === undefined ? '–     ' : metric.toFixed(4)}  ${gate.pass ? 'PASS' : `FAIL ${gate.headline}${gate.more > 0 ? ` (+${gate.more} more)` : ''}`}`,
          width,
        ),
      );
    }
    const rw = Math.max(0, ...runs.map((r) => r.runId.length));
    for (const r of [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt)))
      out.push(
        cut(
          `  run     ${r.runId.padEnd(rw)}  ${r.status.padEnd(9)} ${minute(r.startedAt)}  ${seconds(r).padStart(7)}  ${r.reason ?? ''}`.trimEnd(),
          width,
        ),
      );
    if (versions.length === 0 && runs.length === 0) out.push('  no versions or runs yet');
  }
  return `${out.join('\n')}\n`;
}
