/**
 * The pipeline's fault matrix, on the real local engines: the synthesized state machine run by
 * aws-local-stepfunctions with the real handlers and the real training entrypoint, on a small
 * simulated world. Each fault is injected at a boundary, never by replacing our own logic:
 * - at the SDK client boundary (middleware on the process's S3 / DynamoDB clients): S3 requests sent
 *   to a closed port (a real ECONNREFUSED), DynamoDB answering ProvisionedThroughputExceededException;
 * - at the task boundary: each Lambda handler is invoked through a wrapper module that only switches
 *   a fault on while its task runs (and, for a time-out, delays the call past the task's TimeoutSeconds);
 * - at the container boundary: a training entrypoint that writes /opt/ml/output/failure and exits 1;
 * - in the buckets: artifact bytes changed before Evaluate reads them, a partition cut mid-row.
 * Each case asserts: the run ends recorded (failed with the step's message in the registry, or
 * completed where the fault is absorbed), nothing already stored is lost (versions, the endpoint
 * pointers, raw data), and the same run id runs to completion once the fault is removed.
 */
import { createServer } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient, s3Client } from '../../lib/aws/clients.ts';
import { EndpointStore } from '../../lib/aws/endpoints.ts';
import { ModelRegistry } from '../../lib/aws/registry.ts';
import { formatS3Uri, getObjectBytes, listObjects, parseS3Uri, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { pipelineTemplate, runOutcomeOf } from '../../lib/local/pipeline.ts';
import { uploadDataset } from '../../lib/local/seed-data.ts';
import { definitionFromTemplate, messageFromCause, runPipelineLocally } from '../../lib/local/state-machine.ts';
import { generateWorld } from '../../lib/sim/world.ts';
import { FUNCTIONS, RAW_BUCKET } from '../../lib/wiring/resources.ts';

// Playlists: the quickest shelf to run end to end on a small world.
const SHELF = 'playlists' as const;
const REPO = new URL('../../', import.meta.url);

/** What the injected faults do right now; the wrappers and middlewares read it. */
interface Faults {
  /** Function id during whose task S3 is unreachable. */
  s3DownIn?: string;
  /** Function id during whose task DynamoDB throttles; `throttleCalls` limits it to the first N calls. */
  throttleIn?: string;
  throttleCalls?: number;
  /** Function id whose invocation sleeps this long first, then dies as a timed-out Lambda does. */
  slowIn?: { fn: string; ms: number };
  /** Function id before which the run's model artifact gets corrupted in the bucket. */
  corruptArtifactBefore?: string;
  /** Function ids whose task is running. */
  readonly running: Set<string>;
  /** Faults that actually fired, to prove each case injected what it says. */
  readonly fired: string[];
}
const faults: Faults = { running: new Set(), fired: [] };
declare global {
  // The wrappers (generated modules) reach the test through this global.
  var __shelvesFaults: { before(fn: string, event: unknown): Promise<void>; after(fn: string): void } | undefined;
}

let home: string;
let engines: LocalEngines;
let closedPort: number;
let wrappers: Record<string, string>;
let failingEntrypoint: string;
const registry = () => new ModelRegistry();
const endpoints = () => new EndpointStore();

/** Runs the pipeline once; `outcome` as `shelves pipeline` reports it. */
async function run(
  runId: string,
  options: { timeouts?: Record<string, number>; trainingEntrypoint?: string } = {},
): Promise<{ status: string; outcome: string; error?: string; message?: string }> {
  const definition = structuredClone(definitionFromTemplate(pipelineTemplate())) as { States: Record<string, Record<string, unknown>> };
  for (const [state, seconds] of Object.entries(options.timeouts ?? {})) {
    const target = findState(definition, state);
    if (target === undefined) throw new Error(`no state ${state} in the definition`);
    target.TimeoutSeconds = seconds;
  }
  const started = performance.now();
  const result = await runPipelineLocally({
    definition,
    input: { shelf: SHELF, runId, hyperparameters: { epochs: '2' } },
    executionName: `${SHELF}-${runId}-${Date.now().toString(36)}`,
    home,
    trainingLog: () => undefined,
    handlerEntries: wrappers,
    retryDelayMs: 10,
    ...(options.trainingEntrypoint ? { trainingEntrypoint: options.trainingEntrypoint } : {}),
  });
  const outcome = runOutcomeOf(result);
  const summary = {
    status: result.status,
    outcome,
    ...(result.error ? { error: result.error.Error, message: messageFromCause(result.error.Cause) } : {}),
  };
  if (!matrix.some((m) => m.runId === runId))
    matrix.push({
      runId,
      faulted: { ...summary, seconds: Math.round((performance.now() - started) / 1000), fired: [...new Set(faults.fired)] },
      recorded: undefined,
    });
  return summary;
}

/** A state by name anywhere in the definition (inside Parallel branches and Map processors too). */
function findState(node: unknown, name: string): Record<string, unknown> | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const states = (node as { States?: Record<string, Record<string, unknown>> }).States;
  if (states?.[name] !== undefined) return states[name];
  for (const value of Object.values(node as Record<string, unknown>)) {
    const found = Array.isArray(value) ? value.map((v) => findState(v, name)).find(Boolean) : findState(value, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** What must survive any fault: versions, every shelf's endpoint, the raw bucket's objects. */
async function stored(): Promise<unknown> {
  return {
    versions: (await registry().listVersions(SHELF)).sort((a, b) => a.versionId.localeCompare(b.versionId)),
    endpoint: await endpoints().getEndpoint(SHELF),
    raw: (await listObjects(formatS3Uri(RAW_BUCKET.localName, ''))).filter((o) => !/^(requests|feedback)\//.test(o.key)),
  };
}

/** The run's failure as recorded in the registry. */
async function recorded(runId: string): Promise<{ status?: string; reason?: string }> {
  const r = await registry().getRun(SHELF, runId);
  const entry = { ...(r?.status ? { status: r.status } : {}), ...(r?.reason ? { reason: r.reason } : {}) };
  const m = matrix.find((x) => x.runId === runId);
  if (m !== undefined && m.recorded === undefined) m.recorded = entry;
  return entry;
}

/** Each case's outcome, written as JSON to $FAULT_MATRIX_OUT when set (the table in the notes). */
const matrix: { runId: string; faulted: unknown; recorded: unknown; rerun?: string }[] = [];

/** The same run id, fault removed: it runs to the end (deployed or rejected by the gate, not failed). */
async function rerunCompletes(runId: string): Promise<void> {
  const again = await run(runId);
  expect(again, JSON.stringify(again)).toMatchObject({ status: 'SUCCEEDED' });
  expect(['deployed', 'rejected']).toContain(again.outcome);
  expect((await recorded(runId)).status).toBe(again.outcome);
  const entry = matrix.find((m) => m.runId === runId);
  if (entry !== undefined) entry.rerun = again.outcome;
}

function clearFaults(): void {
  delete faults.s3DownIn;
  delete faults.throttleIn;
  delete faults.throttleCalls;
  delete faults.slowIn;
  delete faults.corruptArtifactBefore;
  faults.fired.length = 0;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Flips bytes in the middle of an object, keeping its size (what a bad disk or a bad writer leaves). */
async function corrupt(uri: string): Promise<void> {
  const bytes = Buffer.from(await getObjectBytes(uri));
  for (let i = Math.floor(bytes.length / 3); i < Math.min(bytes.length, Math.floor(bytes.length / 3) + 64); i++)
    bytes[i] = (bytes[i] ?? 0) ^ 0xff;
  await putObjectBytes(uri, bytes);
}

beforeAll(async () => {
  process.env.LOG_LEVEL = 'SILENT';
  home = await mkdtemp(join(tmpdir(), 'shelves-faults-'));
  engines = await startLocalEngines({ home });
  const world = join(home, 'world');
  await generateWorld(world, { users: 200, days: 21, seed: 17, start: '2026-09-01' });
  await uploadDataset(world, RAW_BUCKET.localName);

  // A port nothing listens on: S3 requests sent there fail as an unreachable S3 does.
  const probe = createServer();
  closedPort = await new Promise<number>((done) => probe.listen(0, '127.0.0.1', () => done((probe.address() as { port: number }).port)));
  await new Promise((done) => probe.close(done));

  s3Client().middlewareStack.add(
    (next) => async (args) => {
      if (faults.s3DownIn !== undefined && faults.running.has(faults.s3DownIn)) {
        faults.fired.push('s3-down');
        (args.request as { port?: number }).port = closedPort;
      }
      return next(args);
    },
    { step: 'finalizeRequest', name: 'faultS3Unreachable' },
  );
  dynamoClient().middlewareStack.add(
    (next) => async (args) => {
      if (faults.throttleIn !== undefined && faults.running.has(faults.throttleIn) && (faults.throttleCalls ?? 1) > 0) {
        if (faults.throttleCalls !== undefined) faults.throttleCalls--;
        faults.fired.push('dynamodb-throttled');
        throw new ProvisionedThroughputExceededException({
          message: 'The level of configured provisioned throughput for the table was exceeded (injected)',
          $metadata: { httpStatusCode: 400 },
        });
      }
      return next(args);
    },
    // Before the SDK's own retries: the throttling outlasts them, as sustained throttling does.
    { step: 'initialize', name: 'faultDynamoThrottle' },
  );

  globalThis.__shelvesFaults = {
    async before(fn, event) {
      faults.running.add(fn);
      if (faults.corruptArtifactBefore === fn) {
        const uri = /s3:\/\/[^"]+\/model\.tar\.gz/.exec(JSON.stringify(event))?.[0];
        if (uri === undefined) throw new Error(`no model artifact in the input of ${fn}`);
        await corrupt(uri);
        faults.fired.push(`corrupted ${parseS3Uri(uri).key}`);
      }
      if (faults.slowIn?.fn === fn) {
        faults.fired.push('slow');
        await sleep(faults.slowIn.ms);
        // A Lambda past its timeout is stopped: nothing after this point may run.
        throw new Error(`${fn} was stopped at its timeout (injected delay of ${faults.slowIn.ms} ms)`);
      }
    },
    after(fn) {
      faults.running.delete(fn);
    },
  };
  // One wrapper module per Lambda: the real handler, invoked between before() and after().
  const dir = join(home, 'wrappers');
  await mkdir(dir, { recursive: true });
  wrappers = {};
  for (const spec of Object.values(FUNCTIONS)) {
    const file = join(dir, `${spec.id}.ts`);
    const real = new URL(spec.entry, REPO).href;
    await writeFile(
      file,
      `import { handler as real } from ${JSON.stringify(real)};
export const handler = async (event: unknown, context: unknown) => {
  await globalThis.__shelvesFaults?.before(${JSON.stringify(spec.id)}, event);
  try {
    return await (real as (e: unknown, c: unknown) => Promise<unknown>)(event, context);
  } finally {
    globalThis.__shelvesFaults?.after(${JSON.stringify(spec.id)});
  }
};
`,
    );
    wrappers[spec.id] = pathToFileURL(file).pathname;
  }
  failingEntrypoint = join(dir, 'failing-entrypoint.mjs');
  await writeFile(
    failingEntrypoint,
    `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
writeFileSync(join(process.env.SM_ROOT ?? '/opt/ml', 'output', 'failure'), 'MemoryError: the training container ran out of memory (injected)\\n');
process.exit(1);
`,
  );

  // A live version to protect: the first run's, put live by hand when the gate rejected it (as an
  // operator's promote does), so that every case can check the live pointer survives.
  const base = await run('base');
  expect(base, JSON.stringify(base)).toMatchObject({ status: 'SUCCEEDED' });
  const baseVersion = `${SHELF}-base`;
  if (base.outcome === 'rejected') {
    await endpoints().deployCandidate(SHELF, baseVersion, { canaryWeight: 0.2 });
    await registry().updateVersionStatus(SHELF, baseVersion, 'live', 'put live by hand for the fault matrix', new Date().toISOString());
  }
  expect((await endpoints().getEndpoint(SHELF)).liveVersion).toBe(baseVersion);
}, 300_000);

afterAll(async () => {
  const out = process.env.FAULT_MATRIX_OUT;
  if (out !== undefined && out !== '') await writeFile(out, `${JSON.stringify(matrix, null, 2)}\n`);
  globalThis.__shelvesFaults = undefined;
  await engines?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('the pipeline under faults', () => {
  it('records a run failed when S3 becomes unreachable mid-run, loses nothing, and the same run id completes afterwards', async () => {
    const before = await stored();
    clearFaults();
    faults.s3DownIn = FUNCTIONS.validateData.id;
    const result = await run('s3-down');
    expect(faults.fired).toContain('s3-down');
    clearFaults();
    expect(result.status).toBe('FAILED');
    expect(await recorded('s3-down')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/ECONNREFUSED|connect|socket|Network|Timeout/i),
    });
    expect(await stored()).toEqual(before);
    await rerunCompletes('s3-down');
  }, 180_000);

  it('rides out short DynamoDB throttling with the task retries, and completes', async () => {
    clearFaults();
    faults.throttleIn = FUNCTIONS.beginRun.id;
    faults.throttleCalls = 2;
    const result = await run('throttled-briefly');
    expect(faults.fired.filter((f) => f === 'dynamodb-throttled')).toHaveLength(2);
    clearFaults();
    expect(result, JSON.stringify(result)).toMatchObject({ status: 'SUCCEEDED' });
    expect(['deployed', 'rejected']).toContain(result.outcome);
  }, 180_000);

  it('records a run failed when DynamoDB throttles Evaluate past its retries, loses nothing, and the same run id completes afterwards', async () => {
    const before = await stored();
    clearFaults();
    faults.throttleIn = FUNCTIONS.evaluate.id;
    const result = await run('throttled');
    expect(faults.fired).toContain('dynamodb-throttled');
    clearFaults();
    expect(result.status).toBe('FAILED');
    expect(await recorded('throttled')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/ProvisionedThroughputExceededException/),
    });
    expect(await stored()).toEqual(before);
    await rerunCompletes('throttled');
  }, 180_000);

  it('records a run failed when a Lambda task times out, loses nothing, and the same run id completes afterwards', async () => {
    const before = await stored();
    clearFaults();
    faults.slowIn = { fn: FUNCTIONS.validateData.id, ms: 3000 };
    const result = await run('timed-out', { timeouts: { ValidateData: 1 } });
    expect(faults.fired).toContain('slow');
    clearFaults();
    expect(result.status).toBe('FAILED');
    expect(await recorded('timed-out')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/States\.Timeout|timed out/i) });
    expect(await stored()).toEqual(before);
    await rerunCompletes('timed-out');
  }, 180_000);

  it('records a run failed when the SageMaker training job fails, with the reason from output/failure, and the same run id completes afterwards', async () => {
    const before = await stored();
    clearFaults();
    const result = await run('train-fails', { trainingEntrypoint: failingEntrypoint });
    expect(result.status).toBe('FAILED');
    expect(await recorded('train-fails')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/MemoryError: the training container ran out of memory/),
    });
    expect(await stored()).toEqual(before);
    await rerunCompletes('train-fails');
  }, 180_000);

  it('records a run failed when the model artifact is corrupted before Evaluate reads it, and the same run id completes afterwards', async () => {
    const before = await stored();
    clearFaults();
    faults.corruptArtifactBefore = FUNCTIONS.evaluate.id;
    const result = await run('corrupt-artifact');
    expect(faults.fired.some((f) => f.startsWith('corrupted'))).toBe(true);
    clearFaults();
    expect(result.status).toBe('FAILED');
    expect(await recorded('corrupt-artifact')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(
        /^DataQualityError: model artifact s3:\/\/.*\/model\.tar\.gz is unreadable \(.*\); expected a gzip tar/,
      ),
    });
    expect(await stored()).toEqual(before);
    await rerunCompletes('corrupt-artifact');
  }, 180_000);

  it('records a run failed on a half-written partition, and the same run id completes once the file is whole', async () => {
    const partitions = (await listObjects(formatS3Uri(RAW_BUCKET.localName, 'events/'))).filter((o) => o.key.endsWith('.jsonl'));
    const victim = partitions[Math.floor(partitions.length / 2)];
    if (victim === undefined) throw new Error('no event partition in the raw bucket');
    const uri = formatS3Uri(RAW_BUCKET.localName, victim.key);
    const whole = Buffer.from(await getObjectBytes(uri));
    const before = await stored();
    // An upload cut off mid-row, after a few rows: the torn row is well over the 1% reject limit.
    const lines = whole.toString('utf8').split('\n');
    await putObjectBytes(uri, `${lines.slice(0, 3).join('\n')}\n${(lines[3] ?? '').slice(0, 25)}`);
    const result = await run('torn-partition');
    await putObjectBytes(uri, whole);
    expect(result.status).toBe('FAILED');
    // BuildFeatures is a Distributed Map: a failed partition fails the Map Run as a whole, and the
    // recorded reason is the Map's (how many partitions failed), or the partition's own when the
    // map tolerates failures and ValidateData judges the reports (it then names the file).
    const reason = new RegExp(
      `^(DataQualityError: .*${victim.key.split('/').slice(0, 2).join('/')}|States\\.ExceedToleratedFailureThreshold: 1 of \\d+ items failed)`,
    );
    expect(await recorded('torn-partition')).toMatchObject({ status: 'failed', reason: expect.stringMatching(reason) });
    expect(await stored()).toEqual(before);
    await rerunCompletes('torn-partition');
  }, 180_000);
});
