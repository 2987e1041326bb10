/**
 * The CDK app. The only place that reads CDK context; it validates it into an AppConfig and passes
 * it down as props. Environment-agnostic unless `account` and `region` are given, so `cdk synth`
 * needs no credentials.
 *
 * Stages: one definition, deployed as `dev` (the default when no stage is given) or `prod`:
 *   npx cdk synth                      -> stack HomeShelves-dev
 *   npx cdk deploy -c stage=prod       -> stack HomeShelves-prod
 * The stage fixes the stack name, the removal policy (dev: destroy with its data; prod: retain) and
 * the alarm thresholds (lib/infra/app-config.ts STAGE_PRESETS).
 *
 * Configuration: the `homeShelves` object in cdk.json (common), its `stages.<stage>` entry, then
 * `-c key=value` per key (e.g. `-c bundling=false`, `-c trainingInstanceType=ml.c5.xlarge`,
 * `-c alarmEmail=oncall@example.com`); `-c nag=false` skips the cdk-nag AwsSolutions validation.
 *
 * On-demand retraining run (the stack outputs StateMachineArn):
 *   aws stepfunctions start-execution --state-machine-arn <StateMachineArn> \
 *     --name podcasts-manual-001 --input '{"shelf":"podcasts","runId":"manual-001"}'
 * runId is the idempotency key (1-40 letters, digits, dashes): the same runId never makes a second version.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AppConfigSchema, parseAppConfig, resolveStageContext } from '../lib/infra/app-config.ts';
import { HomeShelvesStack } from '../lib/infra/home-shelves-stack.ts';

const app = new App();
const fromFile = (app.node.tryGetContext('homeShelves') ?? {}) as Record<string, unknown>;
const overrides = Object.fromEntries(
  Object.keys(AppConfigSchema.shape)
    .map((key) => [key, app.node.tryGetContext(key) as unknown])
    .filter(([, value]) => value !== undefined),
);
const config = parseAppConfig(resolveStageContext(fromFile, overrides));
if (!config.bundling) app.node.setContext('aws:cdk:bundling-stacks', []);
// cdk-nag v3 is a policy validation plugin: findings fail `cdk synth` and land in policy-validation-report.json.
if (String(app.node.tryGetContext('nag')) !== 'false') Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

new HomeShelvesStack(app, config.stackName, {
  config,
  ...(config.account !== undefined || config.region !== undefined ? { env: { account: config.account, region: config.region } } : {}),
  description: 'home-shelves: trains, evaluates, deploys and serves the home screen shelves',
});
