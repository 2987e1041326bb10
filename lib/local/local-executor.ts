/**
 * The local Step Functions executor: runs a state machine definition (see cfn-definition.ts) with
 * aws-local-stepfunctions. Lambda tasks import the very handler modules the stack deploys; the
 * SageMaker training task runs the local training runner; Distributed Map states run through
 * distributed-map.ts. Needs Promise.withResolvers (promise-with-resolvers.ts, imported by the
 * entry module state-machine.ts).
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context as LambdaContext } from 'aws-lambda';
import { ConfigError } from '../core/errors.ts';
import { FUNCTIONS, STATE_MACHINE, type FunctionSpec } from '../wiring/resources.ts';
import { definitionFromTemplate, localFunctionArn, type CfnTemplate, type DefinitionOptions, type Json } from './cfn-definition.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './engines.ts';
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
  /** The state's output, on StateExited. */
  readonly output?: unknown;
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
}

export interface PipelineRunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  /** As Step Functions reports a failed execution: the error name and its cause. */
  readonly error?: { readonly Error: string; readonly Cause: string };
}

/** Executes the pipeline state machine locally, to completion. */
export async function runPipelineLocally(options: RunPipelineOptions): Promise<PipelineRunResult> {
  const { StateMachine, ExecutionError } = await import('aws-local-stepfunctions');
  const given =
    options.definition ??
    (options.template !== undefined ? definitionFromTemplate(options.template, options.definitionOptions) : undefined);
  if (given === undefined) throw new ConfigError('runPipelineLocally needs a template or a definition');
  // Task timeouts are filled in below; the caller's definition stays as it was.
  const definition = structuredClone(given);

  const home = resolve(options.home ?? process.env.SHELVES_HOME ?? '.shelves');
  const invocations = { count: 0 };
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  const retryOverrides: Record<string, number> = {};
  for (const [stateName, state] of taskStates(definition)) {
    const resource = String(state.Resource);
    if (options.retryDelayMs !== undefined && Array.isArray(state.Retry)) retryOverrides[stateName] = options.retryDelayMs;
    if (SAGEMAKER_TRAINING_SYNC.test(resource)) {
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
    machine = new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const execution = machine.run(options.input as Json, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retryOverrides },
    context: {
      Execution: {
        Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${STATE_MACHINE.localName}:${options.executionName}`,
        Name: options.executionName,
        RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-state-machine`,
      },
      StateMachine: {
        Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${STATE_MACHINE.localName}`,
        Name: STATE_MACHINE.localName,
      },
    },
  });
  const forwarding = forwardEvents(execution.eventLogs, options.onEvent);
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
  try {
    // Lambda receives a JSON copy of its event, never the runner's own object.
    result = await module.handler(jsonRoundTrip(input), context);
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    const trace = error instanceof Error && error.stack ? error.stack.split('\n') : [];
    throw new LambdaTaskError(name, { errorType: name, errorMessage: message, trace });
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

async function forwardEvents(events: AsyncIterable<object>, onEvent: ((event: LocalExecutionEvent) => void) | undefined): Promise<void> {
  for await (const event of events) {
    if (onEvent === undefined) continue;
    const raw = event as Record<string, unknown>;
    const state = raw.state as { name?: string; type?: string; output?: unknown } | undefined;
    const parent = raw.parentState as { name?: string; type?: string } | undefined;
    const retry = raw.retry as { attempt?: number } | undefined;
    onEvent({
      type: String(raw.type),
      state: state?.name ?? parent?.name,
      stateType: state?.type ?? parent?.type,
      ...(typeof raw.index === 'number' ? { index: raw.index } : {}),
      ...(raw.Error !== undefined ? { error: String(raw.Error) } : {}),
      ...(raw.Cause !== undefined ? { cause: String(raw.Cause) } : {}),
      ...(retry?.attempt !== undefined ? { attempt: retry.attempt } : {}),
      ...(raw.type === 'StateExited' && state?.output !== undefined ? { output: state.output } : {}),
      timestamp: Number(raw.timestamp),
    });
  }
}

function jsonRoundTrip<T>(value: T): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}
