/**
 * The checks that keep routes and handlers together, shown failing on deliberately mismatched
 * templates and route tables (no synth: hand-written templates in the shape CDK writes).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ROUTES, routeTableProblems, type RouteTable } from '../../lib/api/routes.ts';
import { EventsAcceptedSchema } from '../../lib/api/schemas.ts';
import { ShelfSchema } from '../../lib/core/contract.ts';
import { routeHandler } from '../../lib/middleware/http-handler.ts';
import { deliveredInput, httpEvent, httpRouteTriggers, routeProblems, ruleEvent, type TemplateJson } from './template-triggers.ts';

/** A template with one HTTP API route per key, each integrated with `functionId`. */
function templateWithRoutes(routes: readonly [routeKey: string, functionId: string][]): TemplateJson {
  const Resources: TemplateJson['Resources'] = {};
  routes.forEach(([routeKey, functionId], i) => {
    Resources[`Integration${i}`] = {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: { IntegrationType: 'AWS_PROXY', IntegrationUri: { 'Fn::GetAtt': [functionId, 'Arn'] }, PayloadFormatVersion: '2.0' },
    };
    Resources[`Route${i}`] = {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        RouteKey: routeKey,
        AuthorizationType: 'AWS_IAM',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: `Integration${i}` }]] },
      },
    };
  });
  return { Resources };
}

const admin = { fn: 'admin', auth: 'iam', operationId: 'x', summary: 'x', example: {} } as const;
const ok = { status: 200, description: 'ok', schema: EventsAcceptedSchema } as const;
/** The admin handler as it was before the route table: one route, reading `shelf` and `action` from the path. */
const ACTION_TABLE: RouteTable = {
  'POST /admin/{shelf}/{action}': {
    ...admin,
    request: { path: z.strictObject({ shelf: ShelfSchema, action: z.enum(['promote', 'rollback']) }) },
    response: ok,
  },
};
const actionHandler = routeHandler(ACTION_TABLE, 'admin', { 'POST /admin/{shelf}/{action}': async () => ({ accepted: 0 }) });
/** The infrastructure as it was: literal action paths, so API Gateway fills only `shelf`. */
const LITERAL_TEMPLATE = templateWithRoutes([
  ['POST /admin/{shelf}/promote', 'AdminFunction'],
  ['POST /admin/{shelf}/rollback', 'AdminFunction'],
]);

describe('route checks against a template', () => {
  it('find nothing wrong when the template routes what the handlers serve', () => {
    const routes = httpRouteTriggers(templateWithRoutes([['POST /admin/{shelf}/{action}', 'AdminFunction']]));
    expect(routeProblems(routes, { AdminFunction: actionHandler }, ACTION_TABLE)).toEqual([]);
  });

  it('fail the old admin wiring: routes the handler does not serve, and a handler route no route reaches', () => {
    const problems = routeProblems(httpRouteTriggers(LITERAL_TEMPLATE), { AdminFunction: actionHandler }, ACTION_TABLE);
    expect(problems).toEqual([
      expect.stringMatching(/^POST \/admin\/\{shelf\}\/promote: the handler of AdminFunction does not serve it/),
      expect.stringMatching(/^POST \/admin\/\{shelf\}\/rollback: the handler of AdminFunction does not serve it/),
      expect.stringMatching(/^POST \/admin\/\{shelf\}\/\{action\}: the handler of AdminFunction serves it but no route/),
    ]);
  });

  it('fail a route added without a handler', () => {
    const routes = httpRouteTriggers(templateWithRoutes([['GET /v1/shelves', 'ServeFunction']]));
    expect(routeProblems(routes, {}, ROUTES)).toEqual(['GET /v1/shelves: ServeFunction has no HTTP handler']);
  });

  it('fail a handler whose path parameters the route does not provide', () => {
    const table: RouteTable = {
      'POST /admin/{shelf}/promote': {
        ...admin,
        request: { path: ACTION_TABLE['POST /admin/{shelf}/{action}']!.request.path! },
        response: ok,
      },
    };
    const handler = routeHandler(table, 'admin', { 'POST /admin/{shelf}/promote': async () => ({ accepted: 0 }) });
    const routes = httpRouteTriggers(templateWithRoutes([['POST /admin/{shelf}/promote', 'AdminFunction']]));
    expect(routeProblems(routes, { AdminFunction: handler }, table)).toEqual([
      'POST /admin/{shelf}/promote: API Gateway fills [shelf] but the handler reads [action, shelf]',
    ]);
    expect(routeTableProblems(table)).toEqual([
      'POST /admin/{shelf}/promote: the path schema reads [action, shelf] but the path provides [shelf]',
    ]);
  });

  it('find the real route table sound', () => {
    expect(routeTableProblems(ROUTES)).toEqual([]);
  });
});

describe('the old admin wiring, invoked with the event its route delivers', () => {
  it('answers 404 to a route key the handler does not serve', async () => {
    const event = httpEvent('POST /admin/{shelf}/promote', { pathParameters: { shelf: 'podcasts' } });
    const result = await actionHandler(event, {} as never);
    expect(result.statusCode).toBe(404);
  });

  it('answers 400 naming path.action when API Gateway fills only the shelf', async () => {
    const event = { ...httpEvent('POST /admin/{shelf}/{action}', { pathParameters: { shelf: 'podcasts' } }) };
    const result = await actionHandler(event, {} as never);
    expect([result.statusCode, JSON.parse(result.body ?? '')]).toEqual([
      400,
      { error: 'ValidationError', issues: [{ path: 'path.action', message: expect.any(String) }] },
    ]);
  });
});

describe('what a rule target delivers', () => {
  const schedule = { ruleId: 'PodcastsRetrainingSchedule', scheduleExpression: 'rate(1 day)', target: { kind: 'stateMachine' } } as const;

  it('is the Scheduled Event itself when the target has no input', () => {
    const event = ruleEvent(schedule);
    expect(deliveredInput(schedule, event)).toBe(event);
    expect(event).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} });
  });

  it('is the InputTransformer template with values as JSON outside strings and bare inside', () => {
    const trigger = {
      ...schedule,
      inputTransformer: { InputPathsMap: { id: '$.id', t: '$.time' }, InputTemplate: '{"shelf":"podcasts","runId":<id>,"note":"at <t>"}' },
    };
    const event = ruleEvent(trigger);
    expect(deliveredInput(trigger, event)).toEqual({ shelf: 'podcasts', runId: event.id, note: `at ${String(event.time)}` });
  });

  it('is the constant Input when the target has one', () => {
    expect(deliveredInput({ ...schedule, input: '{"dryRun":true}' }, ruleEvent(schedule))).toEqual({ dryRun: true });
  });

  it('matches the rule pattern when the rule has no schedule', () => {
    const trigger = {
      ruleId: 'Failed',
      eventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT'] },
      },
      target: { kind: 'lambda', functionId: 'X' },
    } as const;
    expect(ruleEvent(trigger, { name: 'podcasts-r1' })).toMatchObject({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { status: 'FAILED', name: 'podcasts-r1' },
    });
  });
});
