/**
 * Synthesizes the stack in-process, for the local runtime and the tests.
 *
 * With `bundling: false` esbuild does not run (context `aws:cdk:bundling-stacks: []`): the template
 * is complete, only the Lambda code assets are placeholders. The Docker image is recorded, never built.
 *
 * Finding the state machine: `stateMachineResource(template)` returns the one
 * AWS::StepFunctions::StateMachine, whose logical id is STATE_MACHINE.id; its
 * `Properties.DefinitionString` is an `Fn::Join` of JSON text and tokens:
 *   - `{"Fn::GetAtt": ["<FUNCTIONS[x].id>", "Arn"]}`: a Lambda; the logical id IS the FUNCTIONS id
 *     (e.g. BeginRunFunction), so `functionKeyOfLogicalId` maps it back to the FUNCTIONS key;
 *   - `{"Fn::GetAtt": ["Training...Role...", "Arn"]}`: the SageMaker execution role;
 *   - `{"Fn::Sub": "${AWS::AccountId}.dkr.ecr...:<hash>"}`: the training image URI;
 *   - `{"Ref": "AWS::Partition"}` and friends: pseudo parameters.
 * Buckets and tables have their BUCKETS / TABLES ids as logical ids (RawBucket, RegistryTable...).
 */
import { App } from 'aws-cdk-lib';
import { FUNCTIONS } from '../wiring/resources.ts';
import { STATE_MACHINE } from '../wiring/resources.ts';
import { type AppConfigInput, parseAppConfig } from './app-config.ts';
import { HomeShelvesStack } from './home-shelves-stack.ts';

export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: unknown;
}
export interface CfnTemplateJson {
  readonly Resources: Record<string, CfnResourceJson>;
  readonly Outputs?: Record<string, unknown>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
}

export interface SynthesizeOptions {
  /** Run esbuild for the Lambda assets; default false (fast, no code assets). */
  readonly bundling?: boolean;
  /** Configuration as context would give it (stage dev unless `stage` is set); checked by parseAppConfig. */
  readonly config?: AppConfigInput;
  /** Cloud assembly directory; default a fresh temporary directory. */
  readonly outdir?: string;
  /**
   * CDK's built-in CloudFormation validation of the synthesized template (a wasm rule engine, ~10 CPU-s
   * here); default true. The local runner turns it off: it reads only the state machine's definition,
   * and `cdk synth` and the infra tests validate the template itself.
   */
  readonly validation?: boolean;
}

/** Builds the app as bin/app.ts does, with the given config; returns the app and the stack. */
export function buildApp(options: SynthesizeOptions = {}): { app: App; stack: HomeShelvesStack } {
  const config = parseAppConfig({ ...options.config, bundling: options.bundling ?? false });
  const app = new App({
    ...(options.outdir !== undefined ? { outdir: options.outdir } : {}),
    ...(options.validation === false ? { builtinCloudFormationValidation: false } : {}),
    context: {
      ...(config.bundling ? {} : { 'aws:cdk:bundling-stacks': [] }),
      // Path metadata lets a reader map any logical id back to its construct path.
      'aws:cdk:enable-path-metadata': true,
    },
  });
  const stack = new HomeShelvesStack(app, config.stackName, {
    config,
    ...(config.account !== undefined || config.region !== undefined ? { env: { account: config.account, region: config.region } } : {}),
  });
  return { app, stack };
}

/** The CloudFormation template of every stack, by stack name. */
export function synthesizeTemplates(options: SynthesizeOptions = {}): Record<string, CfnTemplateJson> {
  const { app } = buildApp(options);
  const assembly = app.synth();
  return Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.template as CfnTemplateJson]));
}

/** The retraining state machine resource of a template (logical id STATE_MACHINE.id). */
export function stateMachineResource(template: CfnTemplateJson): CfnResourceJson {
  const resource = template.Resources[STATE_MACHINE.id];
  if (resource?.Type !== 'AWS::StepFunctions::StateMachine')
    throw new Error(`no AWS::StepFunctions::StateMachine with logical id ${STATE_MACHINE.id} in the template`);
  return resource;
}

/** The FUNCTIONS key of a Lambda logical id (e.g. `BeginRunFunction` -> `beginRun`), or undefined. */
export function functionKeyOfLogicalId(logicalId: string): keyof typeof FUNCTIONS | undefined {
  return (Object.keys(FUNCTIONS) as (keyof typeof FUNCTIONS)[]).find((key) => FUNCTIONS[key].id === logicalId);
}
