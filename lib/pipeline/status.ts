/** What `shelves status`, `promote` and `rollback` print: registry and endpoints, as tables. */
import { EndpointStore } from '../aws/endpoints.ts';
import { ModelRegistry } from '../aws/registry.ts';
import { SHELVES, ShelfSchema, type Shelf } from '../core/contract.ts';
import { InputError } from '../core/errors.ts';
import { promote, rollback, type EndpointAction } from './endpoint-actions.ts';

function parseShelf(name: string): Shelf {
  const parsed = ShelfSchema.safeParse(name);
  if (!parsed.success) throw new InputError(`unknown shelf "${name}"; expected one of ${SHELVES.join(', ')}`, { field: 'shelf' });
  return parsed.data;
}

export async function showStatus(opts: { shelf?: string; json?: boolean }): Promise<string> {
  const shelves = opts.shelf ? [parseShelf(opts.shelf)] : [...SHELVES];
  const registry = new ModelRegistry();
  const endpoints = new EndpointStore();
  const all = [];
  for (const shelf of shelves) {
    const [endpoint, versions, runs, events] = await Promise.all([
      endpoints.getEndpoint(shelf),
      registry.listVersions(shelf),
      registry.listRuns(shelf),
      registry.listEvents(shelf),
    ]);
    all.push({ shelf, endpoint, versions, runs, events });
  }
  if (opts.json) return `${JSON.stringify(all, null, 2)}\n`;
  const out: string[] = [];
  for (const { shelf, endpoint, versions, runs, events } of all) {
    out.push(`\n${shelf.toUpperCase()}`);
    out.push(
      `  live ${endpoint.liveVersion ?? '-'}   canary ${endpoint.canaryVersion ?? '-'} (${Math.round(endpoint.canaryWeight * 100)}%)   previous ${endpoint.previousVersion ?? '-'}   revision ${endpoint.revision}`,
    );
    out.push('  versions:');
    for (const v of versions.slice(-8))
      out.push(`    ${v.versionId.padEnd(40)} ${v.kind.padEnd(18)} ${v.status.padEnd(12)} ${v.createdAt}  ${v.statusReason ?? ''}`);
    if (versions.length === 0) out.push('    (none)');
    out.push('  recent runs:');
    for (const r of runs.slice(-5)) out.push(`    ${r.runId.padEnd(32)} ${r.status.padEnd(9)} ${r.startedAt}  ${r.reason ?? ''}`);
    if (runs.length === 0) out.push('    (none)');
    out.push('  decisions:');
    for (const e of events.slice(-8)) out.push(`    ${e.at}  ${e.action.padEnd(16)} ${(e.version ?? '-').padEnd(36)} ${e.reason}`);
    if (events.length === 0) out.push('    (none)');
  }
  return `${out.join('\n')}\n`;
}

export async function runEndpointAction(action: EndpointAction, shelfName: string, reason: string): Promise<string> {
  const shelf = parseShelf(shelfName);
  const deps = { registry: new ModelRegistry(), endpoints: new EndpointStore(), now: () => new Date() };
  const after = action === 'promote' ? await promote(shelf, reason, deps) : await rollback(shelf, reason, deps);
  return `${shelf}: live ${after.liveVersion ?? '-'}, canary ${after.canaryVersion ?? '-'}, revision ${after.revision}\n`;
}
