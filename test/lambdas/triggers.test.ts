/**
 * Every Lambda invoked with the event its trigger really delivers, derived from the synthesized
 * template (synthesized once here): each HTTP API route (its route key, path parameters from the
 * key's `{}`s), each EventBridge rule target (the Scheduled Event or its InputTransformer's result)
 * and the state machine's Lambda tasks (the execution the retraining schedule starts, run from the
 * template's own definition). Handlers run against the real local engines (dynalite, s3rver).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROUTES, type RouteKey } from '../../lib/api/routes.ts';
import { EndpointStore } from '../../lib/aws/endpoints.ts';
import { documentClient, ModelRegistry, type ModelVersion } from '../../lib/aws/registry.ts';
import type { Shelf } from '../../lib/core/contract.ts';
import type { HttpLambdaHandler } from '../../lib/middleware/http-handler.ts';
import { runPipelineLocally, type CfnTemplate, type LocalExecutionEvent } from '../../lib/local/state-machine.ts';
import { uploadDataset } from '../../lib/local/seed-data.ts';
import { generateWorld } from '../../lib/sim/world.ts';
import { ExecutionInputSchema, type ExecutionInput } from '../../lib/wiring/pipeline.ts';
import { ENDPOINTS_TABLE, FUNCTIONS, RAW_BUCKET, STATE_MACHINE, type FunctionSpec } from '../../lib/wiring/resources.ts';
import { startTestEngines } from '../aws/local-engines.ts';
import { allStates, renderDefinition, synthStack } from '../infra/stack-fixture.ts';
import {
  deliveredInput,
  functionEnvironment,
  functionSpecOf,
  httpEvent,
  httpRouteTriggers,
  RESOURCE_VARIABLES,
  routeProblems,
  ruleEvent,
  ruleTriggers,
  type TemplateJson,
} from './template-triggers.ts';

let template: TemplateJson;
let engines: Awaited<ReturnType<typeof startTestEngines>>;

beforeAll(async () => {
  process.env.LOG_LEVEL = 'ERROR';
  template = synthStack().json;
  engines = await startTestEngines();
}, 600_000);

afterAll(async () => {
  await engines?.cleanup();
});

const CONTEXT = { awsRequestId: 'test', functionName: 'test', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

/** A handler module by function logical id, loaded in this process (the local runtime's environment). */
async function handlerOf<T = (event: unknown, context: Context) => Promise<unknown>>(functionId: string): Promise<T> {
  const spec = functionSpecOf(functionId);
  if (spec === undefined) throw new Error(`${functionId} is not in FUNCTIONS`);
  const module = (await import(new URL(`../../${spec.entry}`, import.meta.url).href)) as { handler: T };
  return module.handler;
}

const http = async (functionId: string, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
  (await handlerOf<HttpLambdaHandler>(functionId))(event, CONTEXT);

/** The event a template route delivers for the route table's example request. */
function exampleEvent(
  routeKey: string,
  overrides: { pathParameters?: Record<string, string>; body?: unknown } = {},
): APIGatewayProxyEventV2 {
  const example = ROUTES[routeKey as RouteKey]?.example as {
    path?: Record<string, string>;
    query?: Record<string, string>;
    body?: unknown;
  };
  const params = [...routeKey.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  return httpEvent(routeKey, {
    pathParameters: overrides.pathParameters ?? Object.fromEntries(params.map((p) => [p, example?.path?.[p] ?? ''])),
    ...(example?.query !== undefined ? { query: example.query } : {}),
    ...('body' in overrides
      ? overrides.body !== undefined
        ? { body: overrides.body }
        : {}
      : example?.body !== undefined
        ? { body: example.body }
        : {}),
  });
}

describe('every function starts with the environment the template gives it', () => {
  /**
   * Known gaps between what a handler reads at module load and what the stack binds, each a bug in
   * AWS today (the local runtime sets every variable, so local runs hide it). The test fails when a
   * new gap appears and when one listed here is fixed, so the list is always the truth.
   */
  // Functions whose cold start is known to fail with the template's environment (none: the list is how
  // a future gap would be tracked, and the test fails when a listed one is fixed).
  const KNOWN_GAPS: Record<string, RegExp> = {};

  it('loads every handler module with only the template environment, as a cold start does', async () => {
    const functionIds = Object.values(FUNCTIONS)
      .map((f: FunctionSpec) => f.id)
      .filter((id) => template.Resources[id]?.Type === 'AWS::Lambda::Function');
    expect(functionIds.length).toBe(Object.keys(FUNCTIONS).length);
    // The local runtime's endpoints and credentials, without any resource name: those come from the template.
    const base = Object.fromEntries(Object.entries(engines.env).filter(([name]) => !RESOURCE_VARIABLES.includes(name)));
    const specs = functionIds.map((id) => ({
      id,
      entry: new URL(`../../${functionSpecOf(id)?.entry}`, import.meta.url).href,
      env: { ...base, LOG_LEVEL: 'ERROR', ...functionEnvironment(template, id).vars },
    }));
    // One fresh process imports each handler with that function's environment only (a handler reads it at module load).
    const script = `
      const specs = JSON.parse(process.env.HANDLER_SPECS); const keep = { PATH: process.env.PATH };
      const failures = {};
      for (const spec of specs) {
        for (const name of Object.keys(process.env)) delete process.env[name];
        Object.assign(process.env, keep, spec.env);
        try {
          const m = await import(spec.entry);
          if (typeof m.handler !== 'function') throw new Error('no handler export');
        } catch (error) { failures[spec.id] = String(error.name) + ': ' + String(error.message).split('\\n')[0]; }
      }
      process.stdout.write('\\nFAILURES ' + JSON.stringify(failures));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', HANDLER_SPECS: JSON.stringify(specs) },
      timeout: 300_000,
      maxBuffer: 1 << 22,
    });
    const failures = JSON.parse(stdout.slice(stdout.lastIndexOf('\nFAILURES ') + 10)) as Record<string, string>;
    const unexpected = Object.entries(failures).filter(([id, message]) => !KNOWN_GAPS[id]?.test(message));
    const fixed = Object.keys(KNOWN_GAPS).filter((id) => failures[id] === undefined);
    expect({ unexpected, fixed }).toEqual({ unexpected: [], fixed: [] });
  }, 600_000);
});

describe('HTTP API routes', () => {
  it('agree with the handlers: every route has one, every handler route has a route, path parameters match', async () => {
    const routes = httpRouteTriggers(template);
    const handlers: Record<string, HttpLambdaHandler> = {};
    for (const functionId of new Set(routes.map((r) => r.functionId)))
      handlers[functionId] = await handlerOf<HttpLambdaHandler>(functionId);
    expect(routeProblems(routes, handlers, ROUTES)).toEqual([]);
    expect(routes.map((r) => r.routeKey).sort()).toEqual(Object.keys(ROUTES).sort());
  }, 120_000);

  it('keep admin routes IAM-authorized and everything else public', () => {
    for (const route of httpRouteTriggers(template))
      expect([route.routeKey, route.authorizationType]).toEqual([
        route.routeKey,
        ROUTES[route.routeKey as RouteKey].auth === 'iam' ? 'AWS_IAM' : 'NONE',
      ]);
  });

  describe.each(
    // Listed from the route table so that vitest can name each case; the first test checks the template has exactly these.
    Object.keys(ROUTES).map((routeKey) => [routeKey]),
  )('%s', (routeKey) => {
    beforeEach(async () => {
      if (ROUTES[routeKey as RouteKey].fn === 'admin') await seedCanary('podcasts');
    });

    it('answers its example request with its success status and a body its response schema accepts', async () => {
      const route = httpRouteTriggers(template).find((r) => r.routeKey === routeKey);
      expect(route, `no route ${routeKey} in the template`).toBeDefined();
      const result = await http(route!.functionId, exampleEvent(routeKey));
      const spec = ROUTES[routeKey as RouteKey];
      expect(result.statusCode, result.body).toBe(spec.response.status);
      expect(spec.response.schema.safeParse(JSON.parse(result.body ?? '')).success).toBe(true);
    }, 120_000);
  });

  it('answers a body that is not JSON with 400 naming body, in the one error format', async () => {
    const event = { ...exampleEvent('POST /v1/home'), body: '{"context":' };
    const result = await http(FUNCTIONS.serve.id, event);
    expect([result.statusCode, JSON.parse(result.body ?? '')]).toEqual([
      400,
      { error: 'ValidationError', issues: [{ path: 'body', message: expect.stringMatching(/not valid JSON/) }] },
    ]);
  });

  it('answers every wrong field of query and body in one 400', async () => {
    const get = await http(FUNCTIONS.serve.id, { ...exampleEvent('GET /v1/home'), queryStringParameters: { userId: '', debug: '1' } });
    expect(
      JSON.parse(get.body ?? '')
        .issues.map((i: { path: string }) => i.path)
        .sort(),
    ).toEqual(['query', 'query.userId']);
    const events = await http(FUNCTIONS.ingestEvents.id, exampleEvent('POST /v1/events', { body: { events: [] } }));
    expect([events.statusCode, JSON.parse(events.body ?? '').issues]).toEqual([
      400,
      [{ path: 'body.events', message: expect.any(String) }],
    ]);
  });
});

// The tables the local runtime created and named in this process's environment.
const registry = () => new ModelRegistry();
const endpoints = () => new EndpointStore();

function version(shelf: Shelf, versionId: string): ModelVersion {
  return {
    shelf,
    versionId,
    runId: versionId,
    kind: 'hybrid-warp',
    status: 'evaluated',
    artifactUri: `s3://home-shelves-artifacts/runs/${shelf}/${versionId}/`,
    reportUri: `s3://home-shelves-artifacts/runs/${shelf}/${versionId}/report.json`,
    metrics: { 'ndcg@10': 0.3 },
    decision: { pass: true, reasons: ['passed'] },
    dataSnapshot: 'snap',
    transformVersion: 't1',
    createdAt: '2026-11-01T00:00:00.000Z',
  };
}

/** A shelf with live version `<shelf>-a` and canary `<shelf>-b`, from an empty endpoint record. */
async function seedCanary(shelf: Shelf): Promise<void> {
  await documentClient().send(new DeleteCommand({ TableName: ENDPOINTS_TABLE.localName, Key: { shelf } }));
  for (const id of [`${shelf}-a`, `${shelf}-b`]) {
    await registry().putVersion(version(shelf, id));
    await registry().updateVersionStatus(shelf, id, 'evaluated', 'seeded', new Date().toISOString());
    await endpoints().deployCandidate(shelf, id, { canaryWeight: 0.2 });
  }
}

describe('the admin handler on dynalite', () => {
  const admin = (routeKey: string, shelf: string, body?: unknown) =>
    http(FUNCTIONS.admin.id, exampleEvent(routeKey, { pathParameters: { shelf }, body }));
  const json = (r: APIGatewayProxyStructuredResultV2) => JSON.parse(r.body ?? '') as Record<string, unknown>;

  beforeEach(async () => {
    await seedCanary('playlists');
  });

  it('promotes the canary to live, retires the old live version and records the reason', async () => {
    const result = await admin('POST /admin/{shelf}/promote', 'playlists', { reason: 'checked by hand' });
    expect([result.statusCode, json(result)]).toEqual([
      200,
      expect.objectContaining({ liveVersion: 'playlists-b', canaryVersion: null, previousVersion: 'playlists-a' }),
    ]);
    expect(await endpoints().getEndpoint('playlists')).toMatchObject({ liveVersion: 'playlists-b', canaryVersion: null });
    expect((await registry().getVersion('playlists', 'playlists-b'))?.status).toBe('live');
    expect((await registry().getVersion('playlists', 'playlists-a'))?.status).toBe('retired');
    expect((await registry().listEvents('playlists')).at(-1)).toMatchObject({ action: 'promote', reason: 'checked by hand' });
  });

  it('rolls back the canary first, then live to the previous version, and answers 409 when nothing is left', async () => {
    const canary = await admin('POST /admin/{shelf}/rollback', 'playlists');
    expect([canary.statusCode, json(canary).canaryVersion, json(canary).liveVersion]).toEqual([200, null, 'playlists-a']);
    expect((await registry().getVersion('playlists', 'playlists-b'))?.status).toBe('rolled-back');
    expect((await registry().listEvents('playlists')).at(-1)).toMatchObject({
      action: 'rollback-canary',
      reason: 'by an operator through the admin API',
    });

    await admin('POST /admin/{shelf}/promote', 'playlists');
    await seedCanary('playlists');
    await admin('POST /admin/{shelf}/promote', 'playlists');
    const live = await admin('POST /admin/{shelf}/rollback', 'playlists');
    expect([live.statusCode, json(live).liveVersion]).toEqual([200, 'playlists-a']);
    expect((await registry().listEvents('playlists')).at(-1)).toMatchObject({ action: 'rollback-live', version: 'playlists-b' });

    await documentClient().send(new DeleteCommand({ TableName: ENDPOINTS_TABLE.localName, Key: { shelf: 'playlists' } }));
    const none = await admin('POST /admin/{shelf}/rollback', 'playlists');
    expect([none.statusCode, json(none).error]).toEqual([409, 'ConflictError']);
  });

  it('answers 400 naming path.shelf for a shelf that does not exist, changing nothing', async () => {
    const result = await admin('POST /admin/{shelf}/promote', 'radio');
    expect([result.statusCode, json(result).issues]).toEqual([400, [{ path: 'path.shelf', message: expect.any(String) }]]);
    expect((await endpoints().getEndpoint('playlists')).canaryVersion).toBe('playlists-b');
  });
});

describe('EventBridge rule targets', () => {
  it('start the retraining state machine with an input it accepts, one rule per shelf', () => {
    const starts = ruleTriggers(template).filter((t) => t.target.kind === 'stateMachine');
    const inputs = starts.map((t) => {
      const event = ruleEvent(t);
      return { event, input: ExecutionInputSchema.parse(deliveredInput(t, event)) };
    });
    expect(inputs.map(({ input }) => input.shelf).sort()).toEqual(['playlists', 'podcasts', 'shortcuts']);
    for (const { event, input } of inputs) expect(input.runId).toBe(event.id);
  });

  it('run the canary monitor with the Scheduled Event: it waits on a canary without feedback, and changes nothing', async () => {
    // Podcasts: the state machine run below trains Shortcuts and must find no seeded (artifact-less) version there.
    await seedCanary('podcasts');
    const trigger = ruleTriggers(template).find((t) => t.target.kind === 'lambda' && t.target.functionId === FUNCTIONS.canaryMonitor.id);
    expect(trigger?.scheduleExpression).toMatch(/^rate\(/);
    const handler = await handlerOf(FUNCTIONS.canaryMonitor.id);
    const outcomes = (await handler(deliveredInput(trigger!, ruleEvent(trigger!)), CONTEXT)) as { shelf: string; action: string }[];
    expect(outcomes.find((o) => o.shelf === 'podcasts')?.action).toBe('wait');
    expect(await endpoints().getEndpoint('podcasts')).toMatchObject({ liveVersion: 'podcasts-a', canaryVersion: 'podcasts-b' });
  });

  it('refuse an event that is not what the rule delivers (a wiring bug, never retried)', async () => {
    const handler = await handlerOf(FUNCTIONS.canaryMonitor.id);
    await expect(handler({ shelf: 'podcasts' }, CONTEXT)).rejects.toMatchObject({ name: 'TaskInputError' });
  });

  it('record a run failed from the event a failed execution emits (the rule pattern, not a schedule)', async () => {
    const trigger = ruleTriggers(template).find((t) => t.target.kind === 'lambda' && t.eventPattern !== undefined);
    expect(trigger?.eventPattern).toMatchObject({ source: ['aws.states'] });
    await registry().beginRun('playlists', 'timed-out', { startedAt: new Date().toISOString(), executionName: 'playlists-timed-out' });
    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:${STATE_MACHINE.localName}:playlists-timed-out`;
    const event = ruleEvent(trigger!, {
      executionArn,
      stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${STATE_MACHINE.localName}`,
      name: 'playlists-timed-out',
      status: 'TIMED_OUT',
      startDate: Date.now() - 60_000,
      stopDate: Date.now(),
      input: JSON.stringify({ shelf: 'playlists', runId: 'timed-out' }),
      output: null,
      error: 'States.Timeout',
      cause: null,
    });
    const handler = await handlerOf((trigger!.target as { functionId: string }).functionId);
    await handler(deliveredInput(trigger!, event), CONTEXT);
    expect(await registry().getRun('playlists', 'timed-out')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/TIMED_OUT/),
    });
  });

  it('give every Lambda target a handler module', () => {
    for (const t of ruleTriggers(template))
      if (t.target.kind === 'lambda') expect(functionSpecOf(t.target.functionId)?.entry).toMatch(/^lambdas\/.+\.ts$/);
  });
});

describe('the state machine Lambda tasks, run from the template with the input the schedule delivers', () => {
  /** Each Lambda task of the definition in the template, by state name, with its function's logical id. */
  const lambdaTasks = (): Map<string, string> => {
    const states = allStates(renderDefinition(template.Resources as never, STATE_MACHINE.id));
    const tasks = new Map<string, string>();
    for (const [name, state] of Object.entries(states)) {
      const target = /^<(\w+)\.Arn>$/.exec(String(state.Parameters?.FunctionName ?? state.Resource ?? ''))?.[1];
      if (state.Type !== 'Task' || target === undefined || functionSpecOf(target) === undefined) continue;
      // The payload is the state's input as is: no InputPath or Parameters to resolve (a change here needs this test to resolve them).
      expect([name, (state as { InputPath?: string }).InputPath, state.Parameters]).toEqual([name, undefined, undefined]);
      tasks.set(name, target);
    }
    return tasks;
  };
  /** Runs one execution; returns the states that succeeded (Map iterations included) and the failures on the way. */
  const execute = async (input: ExecutionInput, name: string) => {
    const succeeded = new Set<string>();
    const failedStates: string[] = [];
    const result = await runPipelineLocally({
      template: template as unknown as CfnTemplate,
      input,
      executionName: name,
      home: engines.home,
      trainingLog: () => undefined,
      onEvent: (e: LocalExecutionEvent) => {
        if (e.state === undefined) return;
        // Tasks inside a Map's iterations count as run.
        if (e.type === 'StateExited') succeeded.add(e.state);
        if (e.type.includes('Failed') || e.type.includes('Caught')) failedStates.push(`${e.state} (${e.type} ${e.error ?? ''})`);
      },
    });
    return { result, succeeded, failedStates };
  };

  it('invokes every Lambda task with the payload the definition builds, and each handler accepts it', async () => {
    const world = `${engines.home}/world`;
    await generateWorld(world, { users: 800, days: 28, seed: 11, start: '2026-09-01' });
    await uploadDataset(world, RAW_BUCKET.localName);
    const tasks = lambdaTasks();
    expect(tasks.size).toBeGreaterThanOrEqual(8);

    // What the Shortcuts schedule starts, exactly: its InputTransformer over the Scheduled Event.
    const rule = ruleTriggers(template).find(
      (t) => t.target.kind === 'stateMachine' && (t.inputTransformer?.InputTemplate ?? '').includes('shortcuts'),
    );
    const scheduled = ExecutionInputSchema.parse(deliveredInput(rule!, ruleEvent(rule!)));
    // Warm the handler modules first: a cold import under a loaded test machine can outlast a task's timeout.
    for (const functionId of new Set(tasks.values())) await handlerOf(functionId);
    const run = await execute(scheduled, 'scheduled');
    expect(run.result.status, `${JSON.stringify(run.result.error)} in ${run.failedStates.join(', ')}`).toBe('SUCCEEDED');
    expect((await registry().getRun('shortcuts', scheduled.runId))?.status).toBe('deployed');

    // A run whose data is missing fails at PlanFeatures; the Catch hands RecordFailure the error with the run.
    const failing = await execute({ shelf: 'shortcuts', runId: 'no-data', rawPrefix: `s3://${RAW_BUCKET.localName}/nothing/` }, 'no-data');
    expect(failing.result.status).toBe('FAILED');
    expect(failing.succeeded.has('RecordFailure')).toBe(true);
    expect((await registry().getRun('shortcuts', 'no-data'))?.status).toBe('failed');

    // The negative control (`shelves pipeline --sabotage`): the gate must reject it, so RecordRejection runs too.
    const sabotage = await execute({ shelf: 'shortcuts', runId: 'sabotage', hyperparameters: { shuffle: 'true' } }, 'sabotage');
    expect(sabotage.result.status, `${JSON.stringify(sabotage.result.error)} in ${sabotage.failedStates.join(', ')}`).toBe('SUCCEEDED');
    expect((await registry().getRun('shortcuts', 'sabotage'))?.status).toBe('rejected');

    const covered = new Set([...run.succeeded, ...failing.succeeded, ...sabotage.succeeded].filter((s) => tasks.has(s)));
    expect([...covered].sort()).toEqual([...tasks.keys()].sort());
  }, 900_000);
});
