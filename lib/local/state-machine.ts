/**
 * The local Step Functions runner: takes the CloudFormation template CDK synthesizes, resolves the
 * state machine's definition to local names, and executes it with aws-local-stepfunctions. Lambda
 * tasks import the very handler modules the stack deploys; the SageMaker training task runs the
 * local training runner. One pipeline definition, two runners.
 */
export { messageFromCause } from '../wiring/pipeline.ts';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context as LambdaContext } from 'aws-lambda';
import { ConfigError } from '../core/errors.ts';
import { BUCKETS, FUNCTIONS, STATE_MACHINE, TABLES, type FunctionSpec } from '../wiring/resources.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './engines.ts';
import { runTrainingJob, type TrainingRunnerOptions } from './sagemaker-runner.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Step Functions' limit on the JSON a state passes on (256 KiB). */
const STATE_PAYLOAD_LIMIT = 256 * 1024;
const SAGEMAKER_TRAINING_SYNC = /^arn:aws:states:::sagemaker:createTrainingJob\.sync$/;
const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke$/;
const LAMBDA_ARN = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)(:.+)?$/;
/** CDK appends an 8-character hash of the construct path to logical ids. */
const LOGICAL_ID_HASH = /[0-9A-F]{8}$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type CfnResource = { Type?: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };
export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  Parameters?: Record<string, { Default?: unknown }>;
}

export interface DefinitionOptions {
  /** Logical id (or its construct-id prefix) of the state machine; default: the one named STATE_MACHINE.id, else the only one. */
  readonly stateMachine?: string;
  readonly region?: string;
  readonly account?: string;
}

/** Local name of a Lambda function: the FUNCTIONS id (resources.ts). */
export function localFunctionArn(functionId: string, region = LOCAL_REGION, account = LOCAL_ACCOUNT): string {
  return `arn:aws:lambda:${region}:${account}:function:${functionId}`;
}

/**
 * Resolves the state machine's DefinitionString (Fn::Join / Fn::Sub / Ref / Fn::GetAtt and pseudo
 * parameters) to local names and parses it: Lambda ARNs become local function ARNs named by their
 * FUNCTIONS id, buckets and tables their local names, anything else (role, image) a placeholder.
 */
export function definitionFromTemplate(template: CfnTemplate, options: DefinitionOptions = {}): Record<string, unknown> {
  const resources = template.Resources ?? {};
  const machines = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  const wanted = options.stateMachine ?? STATE_MACHINE.id;
  const chosen =
    machines.find(([id]) => id === wanted) ??
    machines.find(([id]) => id.replace(LOGICAL_ID_HASH, '') === wanted || id.startsWith(wanted)) ??
    (options.stateMachine === undefined && machines.length === 1 ? machines[0] : undefined);
  if (chosen === undefined) {
    throw new ConfigError(
      `no AWS::StepFunctions::StateMachine "${wanted}" in the template (found: ${machines.map(([id]) => id).join(', ') || 'none'})`,
    );
  }
  const [machineId, machine] = chosen;
  const resolver = new IntrinsicResolver(template, options.region ?? LOCAL_REGION, options.account ?? LOCAL_ACCOUNT);
  const props = machine.Properties ?? {};
  if (props.Definition !== undefined) return resolver.resolve(props.Definition) as Record<string, unknown>;
  let text = resolver.resolve(props.DefinitionString);
  if (typeof text !== 'string') throw new ConfigError(`${machineId}: DefinitionString did not resolve to a string`);
  const substitutions = resolver.resolve(props.DefinitionSubstitutions ?? {}) as Record<string, Json>;
  for (const [key, value] of Object.entries(substitutions)) text = text.split(`\${${key}}`).join(String(value));
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`${machineId}: the resolved definition is not JSON: ${(error as Error).message}`);
  }
}

class IntrinsicResolver {
  constructor(
    private readonly template: CfnTemplate,
    private readonly region: string,
    private readonly account: string,
  ) {}

  resolve(value: unknown): Json {
    if (value === null || typeof value !== 'object') return value as Json;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    const entries = Object.entries(value as Record<string, unknown>);
    const [only] = entries;
    if (entries.length === 1 && only !== undefined && (only[0] === 'Ref' || only[0].startsWith('Fn::')))
      return this.intrinsic(only[0], only[1]);
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  private intrinsic(name: string, arg: unknown): Json {
    switch (name) {
      case 'Ref':
        return this.ref(String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.*)/);
        return this.getAtt(String(logicalId), String(attribute));
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown];
        const resolved = this.resolve(parts);
        if (!Array.isArray(resolved)) throw new ConfigError('Fn::Join expects a list');
        return resolved.map((p) => String(p)).join(separator);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
        const locals = this.resolve(vars) as Record<string, Json>;
        return text.replace(/\$\{([^}!][^}]*)\}/g, (_m, token: string) => {
          if (token in locals) return String(locals[token]);
          const dot = token.indexOf('.');
          return String(dot > 0 && !token.startsWith('AWS::') ? this.getAtt(token.slice(0, dot), token.slice(dot + 1)) : this.ref(token));
        });
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const resolved = this.resolve(list);
        if (!Array.isArray(resolved)) throw new ConfigError('Fn::Select expects a list');
        return resolved[Number(this.resolve(index))] ?? null;
      }
      case 'Fn::Split': {
        const [separator, text] = arg as [string, unknown];
        return String(this.resolve(text)).split(separator);
      }
      default:
        throw new ConfigError(`the local runner cannot resolve ${name} in the state machine definition`);
    }
  }

  private ref(logicalId: string): Json {
    switch (logicalId) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.account;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return 'home-shelves-local';
      case 'AWS::NoValue':
        return null;
    }
    const parameter = this.template.Parameters?.[logicalId];
    if (parameter !== undefined) return (parameter.Default as Json | undefined) ?? `local-parameter-${logicalId}`;
    const resource = this.template.Resources?.[logicalId];
    if (resource === undefined) throw new ConfigError(`Ref to unknown logical id "${logicalId}"`);
    return this.localName(logicalId, resource);
  }

  private getAtt(logicalId: string, attribute: string): Json {
    const resource = this.template.Resources?.[logicalId];
    if (resource === undefined) throw new ConfigError(`Fn::GetAtt of unknown logical id "${logicalId}"`);
    if (attribute !== 'Arn') return `local-${logicalId}-${attribute}`;
    const name = this.localName(logicalId, resource);
    switch (resource.Type) {
      case 'AWS::Lambda::Function':
        return localFunctionArn(name, this.region, this.account);
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        return `arn:aws:dynamodb:${this.region}:${this.account}:table/${name}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${this.account}:role/${name}`;
      default:
        return `arn:aws:local:${this.region}:${this.account}:${name}`;
    }
  }

  /** The local name of a resource: the matching FUNCTIONS / TABLES / BUCKETS entry, else a placeholder. */
  private localName(logicalId: string, resource: CfnResource): string {
    const specs: readonly { id: string; name: string }[] =
      resource.Type === 'AWS::Lambda::Function'
        ? Object.values(FUNCTIONS).map((f: FunctionSpec) => ({ id: f.id, name: f.id }))
        : resource.Type === 'AWS::S3::Bucket'
          ? BUCKETS.map((b) => ({ id: b.id, name: b.localName }))
          : resource.Type?.startsWith('AWS::DynamoDB::')
            ? TABLES.map((t) => ({ id: t.id, name: t.localName }))
            : [];
    const match = matchConstructId(
      logicalId,
      resource,
      specs.map((s) => s.id),
    );
    if (match !== undefined) return specs.find((s) => s.id === match)?.name ?? match;
    if (resource.Type === 'AWS::Lambda::Function')
      throw new ConfigError(`Lambda ${logicalId} matches no entry of FUNCTIONS in lib/wiring/resources.ts`);
    return `local-${logicalId}`;
  }
}

/**
 * Which construct id a logical id belongs to: first by the `aws:cdk:path` metadata (a path segment
 * equal to the id), else by the logical id without its hash containing the id (the longest wins).
 */
export function matchConstructId(
  logicalId: string,
  resource: { Metadata?: Record<string, unknown> },
  ids: readonly string[],
): string | undefined {
  const path = resource.Metadata?.['aws:cdk:path'];
  if (typeof path === 'string') {
    const segments = path.split('/');
    const byPath = ids.filter((id) => segments.includes(id)).sort((a, b) => b.length - a.length)[0];
    if (byPath !== undefined) return byPath;
  }
  const bare = logicalId.replace(LOGICAL_ID_HASH, '');
  return ids.filter((id) => bare === id || bare.endsWith(id) || bare.includes(id)).sort((a, b) => b.length - a.length)[0];
}

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
  installPromiseWithResolvers();
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

/** aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22); Node 20 lacks it. */
function installPromiseWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: () => unknown };
  P.withResolvers ??= () => {
    let resolveFn!: (value: unknown) => void;
    let rejectFn!: (reason: unknown) => void;
    const promise = new Promise((res, rej) => {
      resolveFn = res;
      rejectFn = rej;
    });
    return { promise, resolve: resolveFn, reject: rejectFn };
  };
}
