/**
 * The local Step Functions executor: runs a state machine definition (see cfn-definition.ts) with
 * aws-local-stepfunctions. Lambda tasks import the very handler modules the stack deploys; the
 * SageMaker training task runs the local training runner; Distributed Map states run through
 * distributed-map.ts. Needs Promise.withResolvers (promise-with-resolvers.ts, imported by the
 * entry module state-machine.ts).
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Context as LambdaContext } from 'aws-lambda';
import { ConfigError } from '../core/errors.ts';
import { FUNCTIONS, STATE_MACHINE, type FunctionSpec } from '../wiring/resources.ts';
import { definitionFromTemplate, localFunctionArn, type CfnTemplate, type DefinitionOptions, type Json } from './cfn-definition.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './engines.ts';
import { childDefinition, isDistributedMap, runDistributedMap, standInTask, unsupportedMapFields } from './distributed-map.ts';
import { runTrainingJob, type TrainingRunnerOptions } from './sagemaker-runner.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Step Functions' limit on the JSON a state passes on (256 KiB). */
const STATE_PAYLOAD_LIMIT = 256 * 1024;
const SAGEMAKER_TRAINING_SYNC = /^arn:aws:states:::sagemaker:createTrainingJob\.sync$/;
const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke$/;
const LAMBDA_ARN = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)(:.+)?$/;

/** One step of progress, for the CLI: a state entered, left, failed, retried or caught. */
export interface LocalExecutionEvent {
  readonly type: string;
  readonly state?: string;
  readonly stateType?: string;
  /** Map iteration index, for states inside a Map. */
  readonly index?: number;
  readonly error?: string;
  readonly cause?: string;
  readonly attempt?: number;
  /** The state's input, on StateEntered. */
  readonly input?: unknown;
  /** The state's output, on StateExited. */
  readonly output?: unknown;
  /** For states of a Distributed Map's child executions: the Map state's name (`index` is the item or batch). */
  readonly mapState?: string;
  readonly timestamp: number;
}

export interface RunPipelineOptions {
  /** The synthesized stack template; or pass `definition` directly. */
  readonly template?: CfnTemplate;
  readonly definition?: Record<string, unknown>;
  readonly input: unknown;
  /** `$$.Execution.Name`; also the prefix of local request ids. */
  readonly executionName: string;
  readonly onEvent?: (event: LocalExecutionEvent) => void;
  /** Root of local state (training job directories); default $SHELVES_HOME or `.shelves`. */
  readonly home?: string;
  /** Training entrypoint for SageMaker tasks (see sagemaker-runner.ts). */
  readonly trainingEntrypoint?: string;
  /** Receives the training entrypoint's output lines. */
  readonly trainingLog?: TrainingRunnerOptions['log'];
  /** Handler modules by function id, replacing FUNCTIONS[...].entry (tests use fixtures). */
  readonly handlerEntries?: Readonly<Record<string, string>>;
  /** Waits this long before every retry instead of the definition's IntervalSeconds / BackoffRate. */
  readonly retryDelayMs?: number;
  readonly definitionOptions?: DefinitionOptions;
  /**
   * Most children of a Distributed Map run at once here (the definition's MaxConcurrency is an upper
   * bound, which AWS may also undercut). Every child runs in this one process, where ten at a time add
   * memory (a partition each) but no CPU; default LOCAL_MAP_CONCURRENCY.
   */
  readonly mapConcurrency?: number;
}

/** Default cap of a Distributed Map's concurrent children locally: the cores, at least 2 (one computes while one waits on I/O). */
export const LOCAL_MAP_CONCURRENCY = Math.max(2, availableParallelism());

export interface PipelineRunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  /** As Step Functions reports a failed execution: the error name and its cause. */
  readonly error?: { readonly Error: string; readonly Cause: string };
}

/** Executes the pipeline state machine locally, to completion. */
export async function runPipelineLocally(options: RunPipelineOptions): Promise<PipelineRunResult> {
  const given =
    options.definition ??
    (options.template !== undefined ? definitionFromTemplate(options.template, options.definitionOptions) : undefined);
  if (given === undefined) throw new ConfigError('runPipelineLocally needs a template or a definition');
  await validateOnce(given);
  const execution = {
    name: options.executionName,
    id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${STATE_MACHINE.localName}:${options.executionName}`,
    stateMachineId: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${STATE_MACHINE.localName}`,
    stateMachineName: STATE_MACHINE.localName,
  };
  return executeDefinition(given, options.input as Json, execution, options, { count: 0 }, options.onEvent);
}

interface ExecutionIdentity {
  readonly name: string;
  readonly id: string;
  readonly stateMachineId: string;
  readonly stateMachineName: string;
}

/**
 * Runs one execution of a definition: Distributed Maps become stand-in Tasks (distributed-map.ts),
 * every Task gets its local handler, and aws-local-stepfunctions runs the rest.
 */
async function executeDefinition(
  given: Record<string, unknown>,
  input: Json,
  identity: ExecutionIdentity,
  options: RunPipelineOptions,
  invocations: { count: number },
  onEvent: ((event: LocalExecutionEvent) => void) | undefined,
): Promise<PipelineRunResult> {
  const { StateMachine, ExecutionError } = await import('aws-local-stepfunctions');
  // Task timeouts are filled in and Distributed Maps replaced below; the caller's definition stays as it was.
  const definition = structuredClone(given);
  const context = {
    Execution: { Id: identity.id, Name: identity.name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-state-machine` },
    StateMachine: { Id: identity.stateMachineId, Name: identity.stateMachineName },
  };
  const distributedMaps = replaceDistributedMaps(definition);

  const home = resolve(options.home ?? process.env.SHELVES_HOME ?? '.shelves');
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  const retryOverrides: Record<string, number> = {};
  for (const [stateName, state] of taskStates(definition)) {
    const resource = String(state.Resource);
    if (options.retryDelayMs !== undefined && Array.isArray(state.Retry)) retryOverrides[stateName] = options.retryDelayMs;
    const map = distributedMaps.get(stateName);
    if (map !== undefined) {
      const processor = childDefinition(map);
      handlers[stateName] = (mapInput) =>
        runDistributedMap(map, mapInput, {
          maxConcurrency: options.mapConcurrency ?? LOCAL_MAP_CONCURRENCY,
          executionArn: identity.id,
          stateMachineArn: identity.stateMachineId,
          context,
          applyTemplate: (template, templateInput, templateContext) => applyTemplate(template, templateInput, templateContext),
          runChild: async (childInput, index, name) => {
            const child = await executeDefinition(
              processor,
              childInput,
              {
                name,
                id: `${identity.id}/${stateName}:${name}`,
                stateMachineId: `${identity.stateMachineId}/${stateName}`,
                stateMachineName: `${identity.stateMachineName}/${stateName}`,
              },
              options,
              invocations,
              // Child executions' events carry the item index, like inline Map iterations.
              onEvent === undefined ? undefined : (event) => onEvent({ ...event, index, mapState: stateName }),
            );
            // One event per item, as an inline Map reports its iterations (the CLI counts partitions done).
            onEvent?.({
              type: child.status === 'SUCCEEDED' ? 'MapIterationSucceeded' : 'MapIterationFailed',
              state: stateName,
              stateType: 'Map',
              index,
              ...(child.error ? { error: child.error.Error, cause: child.error.Cause } : {}),
              timestamp: Date.now(),
            });
            return child.status === 'SUCCEEDED'
              ? { status: 'SUCCEEDED', output: jsonRoundTrip(child.output) }
              : { status: 'FAILED', error: child.error ?? { Error: 'States.Runtime', Cause: '' } };
          },
        });
      // A Map state has no timeout of its own in AWS (the execution's bounds it); without one the library stops the stand-in Task at 60 s.
      state.TimeoutSeconds ??= 86_400;
    } else if (SAGEMAKER_TRAINING_SYNC.test(resource)) {
      handlers[stateName] = async (input) =>
        jsonRoundTrip(
          await runTrainingJob(input, {
            home,
            ...(options.trainingEntrypoint ? { entrypoint: options.trainingEntrypoint } : {}),
            ...(options.trainingLog ? { log: options.trainingLog } : {}),
          }),
        );
      state.TimeoutSeconds ??= 86_400;
    } else if (LAMBDA_INVOKE.test(resource)) {
      handlers[stateName] = async (input) => {
        const { FunctionName, Payload } = input as { FunctionName?: string; Payload?: Json };
        const result = await invokeLocalLambda(functionIdOf(String(FunctionName), stateName), Payload ?? null, options, invocations);
        return { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
      };
      state.TimeoutSeconds ??= 900;
    } else {
      const functionId = LAMBDA_ARN.exec(resource)?.[1];
      if (functionId === undefined) throw new ConfigError(`state ${stateName}: the local runner has no runner for resource ${resource}`);
      const spec = functionSpec(functionId, stateName);
      handlers[stateName] = (input) => invokeLocalLambda(spec.id, input, options, invocations);
      // A Lambda cannot outlive its own timeout; without TimeoutSeconds the library would stop it at 60 s.
      state.TimeoutSeconds ??= spec.timeoutSeconds;
    }
  }

  let machine: InstanceType<typeof StateMachine>;
  try {
    // Derived from the definition validateOnce checked as given (Distributed Maps replaced, timeouts filled in).
    machine = new StateMachine(definition as never, { validationOptions: { noValidate: true } });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retryOverrides },
    context,
  });
  const forwarding = forwardEvents(execution.eventLogs, onEvent, distributedMaps);
  try {
    const output = await execution.result;
    return { status: 'SUCCEEDED', output };
  } catch (error) {
    if (!(error instanceof ExecutionError)) throw error;
    const cause = error.cause as Error | undefined;
    return { status: 'FAILED', error: { Error: cause?.name ?? 'States.Runtime', Cause: cause?.message ?? error.message } };
  } finally {
    await forwarding;
  }
}

/** Definitions (as JSON) already validated by aws-local-stepfunctions: the pipeline runs once per shelf. */
const VALIDATED = new Set<string>();

/**
 * Validates a definition as given, Distributed Maps and their templates included (as CreateStateMachine
 * does), once per process: each validation compiles the whole ASL JSON schema (~0.3 CPU-s), so the
 * machines derived from it (stand-in Tasks, Map processors, template evaluators) are not validated again.
 */
async function validateOnce(definition: Record<string, unknown>): Promise<void> {
  const text = JSON.stringify(definition);
  if (VALIDATED.has(text)) return;
  const { StateMachine } = await import('aws-local-stepfunctions');
  try {
    // The validator annotates what it checks: a copy, so the caller's definition stays as it was.
    new StateMachine(structuredClone(definition) as never, { validationOptions: { checkArn: true, checkPaths: true } });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  VALIDATED.add(text);
}

/** The local handler of a Distributed Map's stand-in Task. */
const DISTRIBUTED_MAP_RESOURCE = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:local-distributed-map`;

/**
 * Replaces every Distributed Map (at any depth of Parallel branches and inline Map processors) by its
 * stand-in Task, after checking that the local translation implements each of its fields.
 */
function replaceDistributedMaps(definition: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const found = new Map<string, Record<string, unknown>>();
  const visit = (machine: unknown): void => {
    const states = (machine as { States?: Record<string, Record<string, unknown>> } | undefined)?.States ?? {};
    for (const [name, state] of Object.entries(states)) {
      if (isDistributedMap(state)) {
        const unsupported = unsupportedMapFields(state);
        if (unsupported.length > 0)
          throw new ConfigError(
            `state ${name}: the local runner does not implement these Distributed Map fields: ${unsupported.join(', ')}`,
          );
        found.set(name, state);
        states[name] = standInTask(state, DISTRIBUTED_MAP_RESOURCE);
        continue;
      }
      if (Array.isArray(state.Branches)) for (const branch of state.Branches) visit(branch);
      visit(state.ItemProcessor ?? state.Iterator);
    }
  };
  visit(definition);
  return found;
}

/** Evaluates a Parameters-style template (`.$` keys, `$$` context, intrinsic functions) with aws-local-stepfunctions itself. */
async function applyTemplate(template: Json, input: Json, context: Record<string, unknown>): Promise<Json> {
  const { StateMachine } = await import('aws-local-stepfunctions');
  const key = JSON.stringify(template);
  let machine = TEMPLATE_MACHINES.get(key);
  if (machine === undefined) {
    // A template of a definition validateOnce checked.
    machine = new StateMachine({ StartAt: 'Template', States: { Template: { Type: 'Pass', Parameters: template, End: true } } } as never, {
      validationOptions: { noValidate: true },
    });
    TEMPLATE_MACHINES.set(key, machine);
  }
  return (await machine.run(input, { context: context as never }).result) as Json;
}

/** One-state machines that evaluate a template, by the template's JSON (the same ItemSelector runs once per item). */
const TEMPLATE_MACHINES = new Map<string, { run(input: Json, options: { context: never }): { result: Promise<unknown> } }>();

/**
 * A Lambda error as Step Functions sees it: Error is the thrown error's name, Cause the JSON the
 * Lambda runtime reports ({"errorType","errorMessage","trace"}), so handlers see the same Cause as in AWS.
 */
export class LambdaTaskError extends Error {
  constructor(name: string, cause: { errorType: string; errorMessage: string; trace: string[] }) {
    super(JSON.stringify(cause));
    this.name = name;
  }
}

/** Local Lambda invocations running now (a Map's iterations run several at once). */
let lambdasInFlight = 0;
/** Above this resident size, a task starting alone first collects what earlier tasks left. */
const COLLECT_ABOVE_RSS_BYTES = 1024 ** 3;
let fullCollection: (() => void) | undefined;

/**
 * In AWS every Lambda task has a process of its own; locally they share one, where V8 collects lazily:
 * at a million listeners the garbage of one step (its parsed partitions, its columns) was still resident
 * when the next began, and the process sat at 5.3 GB between two shelves with ~2 GB live. A task that
 * starts with no other running collects it first, so each step's figure is its own. Only above 1 GiB
 * resident: the default world never pays for the collection.
 */
async function collectEarlierTasksGarbage(): Promise<void> {
  if (process.memoryUsage.rss() < COLLECT_ABOVE_RSS_BYTES) return;
  if (fullCollection === undefined) {
    setFlagsFromString('--expose-gc');
    fullCollection = runInNewContext('gc') as () => void;
  }
  // Twice, a turn of the event loop apart: memory freed by the first is returned after it.
  fullCollection();
  await new Promise((done) => setTimeout(done, 0));
  fullCollection();
}

async function invokeLocalLambda(
  functionId: string,
  input: Json,
  options: RunPipelineOptions,
  invocations: { count: number },
): Promise<Json> {
  const spec = functionSpec(functionId, functionId);
  const entry = options.handlerEntries?.[spec.id] ?? spec.entry;
  const module = (await import(pathToFileURL(resolve(REPO_ROOT, entry)).href)) as {
    handler?: (event: unknown, context: LambdaContext) => Promise<unknown>;
  };
  if (typeof module.handler !== 'function') throw new ConfigError(`${entry} does not export a handler function`);
  invocations.count += 1;
  const requestId = `${options.executionName}-${String(invocations.count).padStart(4, '0')}`;
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  const context: LambdaContext = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: spec.id,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(spec.id),
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${spec.id}`,
    logStreamName: `local/${options.executionName}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  let result: unknown;
  const alone = lambdasInFlight === 0;
  lambdasInFlight++;
  try {
    if (alone) await collectEarlierTasksGarbage();
    // Lambda receives a JSON copy of its event, never the runner's own object.
    result = await module.handler(jsonRoundTrip(input), context);
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    const trace = error instanceof Error && error.stack ? error.stack.split('\n') : [];
    throw new LambdaTaskError(name, { errorType: name, errorMessage: message, trace });
  } finally {
    lambdasInFlight--;
  }
  const text = JSON.stringify(result ?? null);
  if (Buffer.byteLength(text) > STATE_PAYLOAD_LIMIT) {
    throw new LambdaTaskError('States.DataLimitExceeded', {
      errorType: 'States.DataLimitExceeded',
      errorMessage: `${spec.id} returned ${Buffer.byteLength(text)} bytes; Step Functions passes at most ${STATE_PAYLOAD_LIMIT}`,
      trace: [],
    });
  }
  return JSON.parse(text) as Json;
}

function functionSpec(functionId: string, where: string): FunctionSpec {
  const spec =
    Object.values(FUNCTIONS).find((f: FunctionSpec) => f.id === functionId) ?? (FUNCTIONS as Record<string, FunctionSpec>)[functionId];
  if (spec === undefined) throw new ConfigError(`${where}: no function "${functionId}" in FUNCTIONS (lib/wiring/resources.ts)`);
  return spec;
}

function functionIdOf(functionName: string, stateName: string): string {
  const id = LAMBDA_ARN.exec(functionName)?.[1] ?? functionName;
  return functionSpec(id, `state ${stateName}`).id;
}

/** Every Task state, including those inside Parallel branches and Map processors, by name. */
function taskStates(definition: Record<string, unknown>): [string, Record<string, unknown>][] {
  const found: [string, Record<string, unknown>][] = [];
  const visit = (machine: unknown): void => {
    const states = (machine as { States?: Record<string, Record<string, unknown>> } | undefined)?.States ?? {};
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') found.push([name, state]);
      if (Array.isArray(state.Branches)) for (const branch of state.Branches) visit(branch);
      visit(state.ItemProcessor ?? state.Iterator);
    }
  };
  visit(definition);
  return found;
}

async function forwardEvents(
  events: AsyncIterable<object>,
  onEvent: ((event: LocalExecutionEvent) => void) | undefined,
  distributedMaps: ReadonlyMap<string, unknown>,
): Promise<void> {
  for await (const event of events) {
    if (onEvent === undefined) continue;
    const raw = event as Record<string, unknown>;
    const state = raw.state as { name?: string; type?: string; input?: unknown; output?: unknown } | undefined;
    const parent = raw.parentState as { name?: string; type?: string } | undefined;
    const retry = raw.retry as { attempt?: number } | undefined;
    const name = state?.name ?? parent?.name;
    onEvent({
      type: String(raw.type),
      state: name,
      // A Distributed Map runs as a stand-in Task; report it as the Map it is.
      stateType: name !== undefined && distributedMaps.has(name) ? 'Map' : (state?.type ?? parent?.type),
      ...(typeof raw.index === 'number' ? { index: raw.index } : {}),
      ...(raw.Error !== undefined ? { error: String(raw.Error) } : {}),
      ...(raw.Cause !== undefined ? { cause: String(raw.Cause) } : {}),
      ...(retry?.attempt !== undefined ? { attempt: retry.attempt } : {}),
      ...(raw.type === 'StateEntered' && state?.input !== undefined ? { input: state.input } : {}),
      ...(raw.type === 'StateExited' && state?.output !== undefined ? { output: state.output } : {}),
      timestamp: Number(raw.timestamp),
    });
  }
}

function jsonRoundTrip<T>(value: T): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}
