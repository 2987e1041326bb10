/**
 * Reads the state machine out of a synthesized CloudFormation template: resolves the intrinsic
 * functions of its DefinitionString (Fn::Join / Fn::Sub / Ref / Fn::GetAtt and pseudo parameters) to
 * the local runtime's names, so the local runner executes the very definition `cdk deploy` ships.
 */
import { ConfigError } from '../core/errors.ts';
import { BUCKETS, FUNCTIONS, STATE_MACHINE, TABLES, type FunctionSpec } from '../wiring/resources.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './engines.ts';

/** CDK appends an 8-character hash of the construct path to logical ids. */
const LOGICAL_ID_HASH = /[0-9A-F]{8}$/;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
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
