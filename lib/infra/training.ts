/**
 * What SageMaker training needs: the container image (Dockerfile at the repository root, published
 * as a CDK asset; synth records it without Docker) and a least-privilege execution role.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResources } from './nag.ts';
import { REPO_ROOT } from './shelves-function.ts';
import { PREFIXES } from '../wiring/resources.ts';

/** Key prefix under which BeginRun places each run's features and artifacts (`runs/<shelf>/<runId>/`). */
export const RUNS_PREFIX = PREFIXES.runs;
/** Log group SageMaker writes training job logs to. */
const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';

export interface TrainingResourcesProps {
  /** Holds the training sets; the role may read `RUNS_PREFIX` only. */
  readonly featuresBucket: IBucket;
  /** Receives model artifacts; the role may write `RUNS_PREFIX` only. */
  readonly artifactsBucket: IBucket;
}

/** The training image asset and the SageMaker execution role. */
export class TrainingResources extends Construct {
  readonly image: DockerImageAsset;
  /** Assumed by SageMaker for the training jobs the pipeline starts. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TrainingResourcesProps) {
    super(scope, id);
    // Synth only fingerprints and stages the build context (kept small by .dockerignore); Docker runs at deploy.
    this.image = new DockerImageAsset(this, 'Image', {
      directory: REPO_ROOT,
      file: 'Dockerfile',
      platform: Platform.LINUX_AMD64,
      assetName: 'home-shelves-training',
    });

    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'SageMaker training jobs of the home-shelves retraining pipeline',
    });
    const features = props.featuresBucket.arnForObjects(`${RUNS_PREFIX}*`);
    const artifacts = props.artifactsBucket.arnForObjects(`${RUNS_PREFIX}*`);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [features] }));
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.featuresBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${RUNS_PREFIX}*`] } },
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [artifacts] }),
    );
    const logGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: TRAINING_LOG_GROUP,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogGroup', 'logs:DescribeLogStreams'], resources: [logGroupArn] }),
    );
    const logStreams = `${logGroupArn}:log-stream:*`;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logStreams] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } },
      }),
    );
    this.image.repository.grantPull(this.role);

    acknowledgeWildcardResources(this.role, 'Training reads the per-run training sets under runs/ of the features bucket only.', [
      features,
    ]);
    acknowledgeWildcardResources(
      this.role,
      'Training writes its model artifact under runs/ of the artifacts bucket only (one key per run).',
      [artifacts],
    );
    acknowledgeWildcardResources(
      this.role,
      'SageMaker names one log stream per training job inside its own /aws/sagemaker/TrainingJobs log group.',
      [logStreams],
    );
    acknowledgeWildcardResources(
      this.role,
      'ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level permissions; PutMetricData is limited to the SageMaker namespace by condition.',
      ['*'],
    );
  }
}
