/**
 * What each Lambda's trigger delivers, read from a synthesized template: API Gateway HTTP API routes
 * (route key, authorization, integration -> function), EventBridge rule targets (the Scheduled Event,
 * an event matching the rule's pattern, or what the target's Input / InputTransformer makes of it) and
 * the state machine's Lambda tasks. Also the environment a function gets there, resolved to the local
 * runtime's resource names, and the checks that a route and its handler agree.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { parseRouteKey, type RouteTable } from '../../lib/api/routes.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../lib/local/engines.ts';
import { BUCKETS, FUNCTIONS, STATE_MACHINE, TABLES, type FunctionSpec } from '../../lib/wiring/resources.ts';

export interface TemplateJson {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
}

/** The logical id X of `{"Fn::GetAtt": [X, "Arn"]}` or `{"Ref": X}`, else undefined. */
function logicalIdOf(token: unknown): string | undefined {
  const t = token as { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined;
  return t?.['Fn::GetAtt']?.[0] ?? t?.Ref;
}

/** The FUNCTIONS entry whose id (the function's logical id) is `logicalId`. */
export function functionSpecOf(logicalId: string): FunctionSpec | undefined {
  return Object.values(FUNCTIONS).find((f: FunctionSpec) => f.id === logicalId);
}

export interface HttpRouteTrigger {
  readonly routeKey: string;
  readonly authorizationType: string;
  /** Logical id of the function the route's integration invokes. */
  readonly functionId: string;
}

/** Every AWS::ApiGatewayV2::Route with the function its AWS_PROXY integration invokes. */
export function httpRouteTriggers(template: TemplateJson): HttpRouteTrigger[] {
  const { Resources } = template;
  return Object.values(Resources)
    .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
    .map((route) => {
      const integrationId = /"Ref":"([^"]+)"/.exec(JSON.stringify(route.Properties?.Target))?.[1] ?? '';
      const integration = Resources[integrationId];
      if (integration?.Type !== 'AWS::ApiGatewayV2::Integration' || integration.Properties?.PayloadFormatVersion !== '2.0')
        throw new Error(`route ${String(route.Properties?.RouteKey)}: no payload 2.0 integration (${integrationId})`);
      return {
        routeKey: String(route.Properties?.RouteKey),
        authorizationType: String(route.Properties?.AuthorizationType ?? 'NONE'),
        functionId: logicalIdOf(integration.Properties?.IntegrationUri) ?? '',
      };
    });
}

/** An API Gateway HTTP API payload 2.0 event for `routeKey`, as API Gateway builds it for a request. */
export function httpEvent(
  routeKey: string,
  request: { pathParameters?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {},
): APIGatewayProxyEventV2 {
  const { method, path } = parseRouteKey(routeKey);
  const rawPath = path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(request.pathParameters?.[name] ?? ''));
  const rawQueryString = new URLSearchParams(request.query ?? {}).toString();
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    headers: { 'content-type': 'application/json', host: 'api.example.com' },
    ...(request.query !== undefined ? { queryStringParameters: request.query } : {}),
    ...(request.pathParameters !== undefined && Object.keys(request.pathParameters).length > 0
      ? { pathParameters: request.pathParameters }
      : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'api0000001',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'template-triggers' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}

export type RuleTargetKind = { kind: 'lambda'; functionId: string } | { kind: 'stateMachine' } | { kind: 'other'; logicalId: string };

export interface RuleTrigger {
  readonly ruleId: string;
  readonly scheduleExpression?: string;
  readonly eventPattern?: Record<string, unknown>;
  readonly target: RuleTargetKind;
  readonly input?: string;
  readonly inputTransformer?: { readonly InputPathsMap?: Record<string, string>; readonly InputTemplate: string };
}

/** Every target of every AWS::Events::Rule. */
export function ruleTriggers(template: TemplateJson): RuleTrigger[] {
  const out: RuleTrigger[] = [];
  for (const [ruleId, rule] of Object.entries(template.Resources)) {
    if (rule.Type !== 'AWS::Events::Rule') continue;
    const p = rule.Properties ?? {};
    for (const t of (p.Targets as Record<string, unknown>[] | undefined) ?? []) {
      const logicalId = logicalIdOf(t.Arn) ?? '';
      const target: RuleTargetKind =
        logicalId === STATE_MACHINE.id
          ? { kind: 'stateMachine' }
          : functionSpecOf(logicalId)
            ? { kind: 'lambda', functionId: logicalId }
            : { kind: 'other', logicalId };
      out.push({
        ruleId,
        ...(typeof p.ScheduleExpression === 'string' ? { scheduleExpression: p.ScheduleExpression } : {}),
        ...(p.EventPattern !== undefined ? { eventPattern: p.EventPattern as Record<string, unknown> } : {}),
        target,
        ...(typeof t.Input === 'string' ? { input: t.Input } : {}),
        ...(t.InputTransformer !== undefined ? { inputTransformer: t.InputTransformer as RuleTrigger['inputTransformer'] & object } : {}),
      });
    }
  }
  return out;
}

/** The event EventBridge sends for a rule: the Scheduled Event of a schedule, or one matching its pattern. */
export function ruleEvent(trigger: RuleTrigger, detail: Record<string, unknown> = {}): Record<string, unknown> {
  const base = {
    version: '0',
    id: randomUUID(),
    account: LOCAL_ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
  };
  if (trigger.scheduleExpression !== undefined)
    return {
      ...base,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${trigger.ruleId}`],
      detail: {},
    };
  // An event matching the pattern: its first allowed value of each field, then the caller's detail.
  const pattern = trigger.eventPattern ?? {};
  const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);
  const patternDetail = Object.fromEntries(
    Object.entries((pattern.detail as Record<string, unknown>) ?? {}).map(([k, v]) => [k, first(v)]),
  );
  return {
    ...base,
    'detail-type': first(pattern['detail-type']),
    source: first(pattern.source),
    resources: [],
    detail: { ...patternDetail, ...detail },
  };
}

/** A value at a simple JSONPath (`$.a.b`) of `event`. */
function atPath(event: unknown, path: string): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], event);
}

/**
 * What the target receives: its constant Input, its InputTransformer applied (a placeholder inside a
 * JSON string is replaced by the bare value, elsewhere by the value as JSON, as EventBridge does), or
 * the event itself.
 */
export function deliveredInput(trigger: RuleTrigger, event: Record<string, unknown>): unknown {
  if (trigger.input !== undefined) return JSON.parse(trigger.input);
  const transformer = trigger.inputTransformer;
  if (transformer === undefined) return event;
  const values = Object.fromEntries(Object.entries(transformer.InputPathsMap ?? {}).map(([name, path]) => [name, atPath(event, path)]));
  let out = '';
  let inString = false;
  const template = transformer.InputTemplate;
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    const placeholder = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    if (placeholder !== null && (placeholder[1] as string) in values) {
      const value = values[placeholder[1] as string];
      out += inString ? String(value) : JSON.stringify(value);
      i += placeholder[0].length - 1;
      continue;
    }
    if (c === '"' && template[i - 1] !== '\\') inString = !inString;
    out += c;
  }
  return JSON.parse(out);
}

/**
 * A function's environment in the template, resolved for the local runtime: table and bucket refs
 * become their local names, plain values stay; refs to resources the local runtime does not have
 * (a Firehose stream, an SNS topic) are left out, as the local runtime leaves them unset.
 */
export function functionEnvironment(template: TemplateJson, functionId: string): { vars: Record<string, string>; omitted: string[] } {
  const variables =
    (template.Resources[functionId]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  const local = new Map<string, string>([...TABLES, ...BUCKETS].map((r) => [r.id, r.localName]));
  const vars: Record<string, string> = {};
  const omitted: string[] = [];
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value === 'string') vars[name] = value;
    else {
      const id = logicalIdOf(value);
      const resolved = id === undefined ? undefined : local.get(id);
      if (resolved !== undefined) vars[name] = resolved;
      else omitted.push(name);
    }
  }
  return { vars, omitted };
}

/** Names of the variables that carry resource names: cleared before a handler loads with a template environment. */
export const RESOURCE_VARIABLES: readonly string[] = [...TABLES, ...BUCKETS].map((r) => r.env);

/**
 * Disagreements between the template's routes and the handlers, in words: a route whose function's
 * handler does not serve it, a handler serving a route the template never sends it, and a route whose
 * path parameters are not those the handler's path schema reads.
 */
export function routeProblems(
  routes: readonly HttpRouteTrigger[],
  handlers: Readonly<Record<string, { readonly routeKeys: readonly string[] } | undefined>>,
  table: RouteTable,
): string[] {
  const problems: string[] = [];
  for (const route of routes) {
    const handler = handlers[route.functionId];
    if (handler === undefined) {
      problems.push(`${route.routeKey}: ${route.functionId} has no HTTP handler`);
      continue;
    }
    if (!handler.routeKeys.includes(route.routeKey)) {
      problems.push(`${route.routeKey}: the handler of ${route.functionId} does not serve it (it serves ${handler.routeKeys.join(', ')})`);
      continue;
    }
    const given = parseRouteKey(route.routeKey).params.sort();
    const read = Object.keys(table[route.routeKey]?.request.path?.shape ?? {}).sort();
    if (JSON.stringify(given) !== JSON.stringify(read))
      problems.push(`${route.routeKey}: API Gateway fills [${given.join(', ')}] but the handler reads [${read.join(', ')}]`);
  }
  for (const [functionId, handler] of Object.entries(handlers)) {
    for (const key of handler?.routeKeys ?? [])
      if (!routes.some((r) => r.functionId === functionId && r.routeKey === key))
        problems.push(`${key}: the handler of ${functionId} serves it but no route of the template sends it there`);
  }
  return problems;
}
