/**
 * RecordExecutionFailure invoked with the event its EventBridge rule really delivers: the event is
 * built from the synthesized rule's pattern (source, detail type, status, state machine ARN), with
 * the fields EventBridge adds, and the registry is the local DynamoDB engine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../lib/aws/registry.ts';
import { EXECUTION_STATUS_CHANGE } from '../../lib/infra/monitoring.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { FAILED_EXECUTION_STATUSES, FUNCTIONS, STATE_MACHINE } from '../../lib/wiring/resources.ts';
import { synthStack } from './stack-fixture.ts';

interface Pattern {
  source: string[];
  'detail-type': string[];
  detail: { status: string[]; stateMachineArn: unknown[] };
}

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:RetrainingStateMachine-abc';
let pattern: Pattern;
let home: string;
let engines: LocalEngines;
let handler: (event: unknown, context: Context) => Promise<{ recorded: boolean; reason: string }>;
let registry: ModelRegistry;

beforeAll(async () => {
  const { json } = synthStack();
  const rule = Object.values(json.Resources).find(
    (r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties?.EventPattern ?? {}).includes(EXECUTION_STATUS_CHANGE),
  );
  pattern = rule?.Properties?.EventPattern as Pattern;
  expect(pattern.detail.stateMachineArn).toEqual([{ Ref: STATE_MACHINE.id }]);
  home = await mkdtemp(join(tmpdir(), 'shelves-exec-failure-'));
  engines = await startLocalEngines({ home });
  registry = new ModelRegistry();
  // The handler reads its table name at module load, so it loads after the engines set the environment.
  ({ handler } = (await import(`../../${FUNCTIONS.recordExecutionFailure.entry}`)) as { handler: typeof handler });
}, 600_000);

afterAll(async () => {
  await engines?.stop();
  await rm(home, { recursive: true, force: true });
});

/** What EventBridge delivers for an execution of the rule's state machine ending in `status`. */
function statusChange(status: string, name: string, input: unknown, extra: { error?: string; cause?: string } = {}) {
  return {
    version: '0',
    id: '315c1398-40ff-a850-213b-158f73e60175',
    'detail-type': pattern['detail-type'][0],
    source: pattern.source[0],
    account: '000000000000',
    time: '2026-12-01T03:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:states:us-east-1:000000000000:execution:RetrainingStateMachine-abc:${name}`],
    detail: {
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:RetrainingStateMachine-abc:${name}`,
      stateMachineArn: STATE_MACHINE_ARN,
      name,
      status,
      startDate: 1_764_558_000_000,
      stopDate: 1_764_579_600_000,
      input: typeof input === 'string' ? input : JSON.stringify(input),
      inputDetails: { included: true },
      output: null,
      outputDetails: null,
      error: extra.error ?? null,
      cause: extra.cause ?? null,
    },
  };
}

const context = (): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: FUNCTIONS.recordExecutionFailure.id,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${FUNCTIONS.recordExecutionFailure.id}`,
  memoryLimitInMB: String(FUNCTIONS.recordExecutionFailure.memoryMb),
  awsRequestId: 'test-request',
  logGroupName: `/aws/lambda/${FUNCTIONS.recordExecutionFailure.id}`,
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

describe('RecordExecutionFailure, from the failed-execution rule', () => {
  it('forwards exactly the statuses after which a run must be recorded failed', () => {
    expect(pattern.detail.status).toEqual([...FAILED_EXECUTION_STATUSES]);
  });

  it.each(FAILED_EXECUTION_STATUSES.map((s) => [s]))('records a still-running run failed when its execution ends %s', async (status) => {
    const runId = `running-${status.toLowerCase().replace('_', '-')}`;
    await registry.beginRun('podcasts', runId, { startedAt: '2026-12-01T03:00:00.000Z' });
    const result = await handler(statusChange(status, `podcasts-${runId}`, { shelf: 'podcasts', runId }), context());
    expect(result).toMatchObject({ recorded: true });
    expect(await registry.getRun('podcasts', runId)).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining(`execution ${status}`),
    });
  });

  it('keeps the error and cause Step Functions reports', async () => {
    await registry.beginRun('shortcuts', 'with-cause', { startedAt: '2026-12-01T03:00:00.000Z' });
    await handler(
      statusChange(
        'FAILED',
        'x',
        { shelf: 'shortcuts', runId: 'with-cause' },
        { error: 'States.DataLimitExceeded', cause: 'payload over 256 KiB' },
      ),
      context(),
    );
    expect((await registry.getRun('shortcuts', 'with-cause'))?.reason).toBe(
      'execution FAILED: States.DataLimitExceeded: payload over 256 KiB',
    );
  });

  it('records a run whose execution was aborted before BeginRun', async () => {
    const result = await handler(statusChange('ABORTED', 'early', { shelf: 'playlists', runId: 'never-begun' }), context());
    expect(result.recorded).toBe(true);
    expect(await registry.getRun('playlists', 'never-begun')).toMatchObject({ status: 'failed', attempt: 1 });
  });

  it("keeps the step's own message when RecordFailure already recorded the run", async () => {
    await registry.beginRun('podcasts', 'caught', { startedAt: '2026-12-01T03:00:00.000Z' });
    await registry.failRun('podcasts', 'caught', 'DataQualityError: 40% of rows rejected');
    const result = await handler(
      statusChange('FAILED', 'caught', { shelf: 'podcasts', runId: 'caught' }, { error: 'DataQualityError' }),
      context(),
    );
    expect(result).toMatchObject({ recorded: false, reason: expect.stringContaining('already ended failed') });
    expect((await registry.getRun('podcasts', 'caught'))?.reason).toBe('DataQualityError: 40% of rows rejected');
  });

  it('leaves a deployed run alone', async () => {
    await registry.beginRun('podcasts', 'deployed', { startedAt: '2026-12-01T03:00:00.000Z' });
    await registry.completeRun('podcasts', 'deployed', 'deployed', 'version v1 deployed as live');
    const result = await handler(statusChange('TIMED_OUT', 'late', { shelf: 'podcasts', runId: 'deployed' }), context());
    expect(result.recorded).toBe(false);
    expect((await registry.getRun('podcasts', 'deployed'))?.status).toBe('deployed');
  });

  it('records nothing, and does not fail, for an execution whose input names no run', async () => {
    const result = await handler(statusChange('FAILED', 'manual', '{"hello":"world"}'), context());
    expect(result).toEqual({ recorded: false, reason: expect.stringContaining('names no shelf and runId') });
  });

  it('refuses an event its rule never delivers (a succeeded execution)', async () => {
    await expect(handler(statusChange('SUCCEEDED', 'ok', { shelf: 'podcasts', runId: 'ok' }), context())).rejects.toThrow(
      /TaskInputError|status/,
    );
    expect(await registry.getRun('podcasts', 'ok')).toBeNull();
  });
});
