/**
 * The local Step Functions runner's entry: the template reader (cfn-definition.ts) and the executor
 * (local-executor.ts). It installs Promise.withResolvers first, which aws-local-stepfunctions needs on
 * Node 20. One pipeline definition, two runners.
 */
import './promise-with-resolvers.ts';

export { messageFromCause } from '../wiring/pipeline.ts';
export { definitionFromTemplate, localFunctionArn, matchConstructId, type CfnTemplate, type DefinitionOptions } from './cfn-definition.ts';
export {
  LambdaTaskError,
  runPipelineLocally,
  type LocalExecutionEvent,
  type PipelineRunResult,
  type RunPipelineOptions,
} from './local-executor.ts';
