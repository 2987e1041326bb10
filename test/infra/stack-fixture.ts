/** One synthesized stack shared by the infra tests (synth takes seconds; the tests only read it). */
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/infra/synth.ts';
import type { AppConfigInput } from '../../lib/infra/app-config.ts';

export function synthStack(config: AppConfigInput = {}) {
  const { app, stack } = buildApp({ bundling: false, config });
  const template = Template.fromStack(stack);
  return {
    app,
    stack,
    template,
    json: template.toJSON() as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> },
  };
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The IAM policy statements of every AWS::IAM::Policy and inline role policy in the template. */
export function policyStatements(
  resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>,
): { logicalId: string; Action: string[]; Resource: Json[]; Condition?: Json }[] {
  const found: { logicalId: string; Action: string[]; Resource: Json[]; Condition?: Json }[] = [];
  const add = (logicalId: string, doc: unknown) => {
    for (const s of (doc as { Statement?: Record<string, unknown>[] } | undefined)?.Statement ?? []) {
      const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : v === undefined ? [] : [v as T]);
      found.push({
        logicalId,
        Action: list<string>(s.Action),
        Resource: list<Json>(s.Resource),
        ...(s.Condition !== undefined ? { Condition: s.Condition as Json } : {}),
      });
    }
  };
  for (const [logicalId, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Policy') add(logicalId, r.Properties?.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role')
      for (const p of (r.Properties?.Policies as { PolicyDocument: unknown }[] | undefined) ?? []) add(logicalId, p.PolicyDocument);
  }
  return found;
}

/** Policy statements attached (through a DefaultPolicy or a Policy's Roles) to the role `roleLogicalId`. */
export function statementsOfRole(resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>, roleLogicalId: string) {
  const policies = Object.entries(resources).filter(
    ([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: roleLogicalId }]),
  );
  return policyStatements(Object.fromEntries(policies));
}

/** Logical id of the execution role of a Lambda by its logical id. */
export function roleOfFunction(
  resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>,
  functionLogicalId: string,
): string {
  const role = resources[functionLogicalId]?.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined;
  if (role === undefined) throw new Error(`no role on ${functionLogicalId}`);
  return role['Fn::GetAtt'][0];
}

/**
 * The state machine definition with its tokens rendered readably: `Fn::GetAtt [X, Arn]` -> `<X.Arn>`,
 * `Ref AWS::Partition` -> `aws`, other refs -> `<X>`. Independent of the local runner's resolver.
 */
export function renderDefinition(
  resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>,
  logicalId: string,
): StateMachineDefinition {
  const text = renderToken(resources[logicalId]?.Properties?.DefinitionString);
  return JSON.parse(text) as StateMachineDefinition;
}

function renderToken(token: unknown): string {
  if (typeof token === 'string') return token;
  const t = token as Record<string, unknown>;
  if (Array.isArray(t['Fn::Join'])) {
    const [sep, parts] = t['Fn::Join'] as [string, unknown[]];
    return parts.map(renderToken).join(sep);
  }
  if (Array.isArray(t['Fn::GetAtt'])) return `<${(t['Fn::GetAtt'] as string[]).join('.')}>`;
  if (typeof t.Ref === 'string') return t.Ref === 'AWS::Partition' ? 'aws' : `<${t.Ref}>`;
  if (typeof t['Fn::Sub'] === 'string') return t['Fn::Sub'];
  throw new Error(`unexpected token ${JSON.stringify(token)}`);
}

export interface StateJson {
  Type: string;
  Resource?: string;
  Next?: string;
  End?: boolean;
  ResultPath?: string;
  Parameters?: Record<string, Json>;
  ResultSelector?: Record<string, Json>;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  Choices?: Record<string, Json>[];
  Default?: string;
  ItemsPath?: string;
  ItemSelector?: Record<string, Json>;
  MaxConcurrency?: number;
  ItemProcessor?: StateMachineDefinition;
  Branches?: StateMachineDefinition[];
  ErrorPath?: string;
  CausePath?: string;
}
export interface StateMachineDefinition {
  StartAt: string;
  States: Record<string, StateJson>;
}

/** Every state by name, including those inside Map processors and Parallel branches. */
export function allStates(definition: StateMachineDefinition): Record<string, StateJson> {
  const out: Record<string, StateJson> = {};
  const visit = (d: StateMachineDefinition) => {
    for (const [name, state] of Object.entries(d.States)) {
      out[name] = state;
      if (state.ItemProcessor) visit(state.ItemProcessor);
      for (const b of state.Branches ?? []) visit(b);
    }
  };
  visit(definition);
  return out;
}

/** Every cdk-nag acknowledgement in the app as `<construct path below the stack> <rule id>`, sorted. */
export function acknowledgements(app: import('aws-cdk-lib').App, stackName: string): string[] {
  const found: string[] = [];
  for (const construct of app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== 'aws:cdk:acknowledged-rules') continue;
      const path = construct.node.path.startsWith(`${stackName}/`) ? construct.node.path.slice(stackName.length + 1) : construct.node.path;
      for (const id of Object.keys(entry.data as Record<string, string>)) found.push(`${path} ${id}`);
    }
  }
  return [...new Set(found)].sort();
}

/** The S3 actions of a statement (`s3:*` and `*` count as S3). */
export function s3Actions(statement: { Action: string[] }): string[] {
  return statement.Action.filter((a) => a === '*' || a.startsWith('s3:'));
}
