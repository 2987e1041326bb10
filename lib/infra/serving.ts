/**
 * Serving infrastructure: the HTTP API in front of Serve / IngestEvents / Admin, and the Firehose
 * streams that land Serve's feature logs (what was shown, with which features) and the feedback
 * posted to /v1/events in the raw bucket, by day.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, type HttpRoute, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnDeliveryStream } from 'aws-cdk-lib/aws-kinesisfirehose';
import { LogGroup, LogStream, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type FunctionKey, parseRouteKey, ROUTES, type RouteTable } from '../api/routes.ts';
import { acknowledgeRule, acknowledgeWildcardResources } from './nag.ts';

/** Firehose puts request-log records it could not deliver here, outside the `requests/` data. */
export const REQUEST_LOG_ERRORS_PREFIX = 'requests-errors/';
/** Firehose puts feedback records it could not deliver here, outside the `feedback/` data. */
export const FEEDBACK_ERRORS_PREFIX = 'feedback-errors/';

export interface BucketDeliveryStreamProps {
  /** The raw bucket. */
  readonly rawBucket: IBucket;
  /** Key prefix the records land under, by day of arrival: `<prefix>dt=YYYY-MM-DD/` (ends with `/`). */
  readonly prefix: string;
  /** Key prefix of records Firehose could not deliver (ends with `/`), outside `prefix`. */
  readonly errorPrefix: string;
  /** What the stream carries, for its role's description (e.g. "Serve feature logs"). */
  readonly carries: string;
  readonly logRetention: RetentionDays;
  /** Seconds Firehose buffers before writing an object; default 300. */
  readonly bufferSeconds?: number;
}

/**
 * A Direct PUT Firehose stream into one prefix of the raw bucket, partitioned by day of arrival
 * (`!{timestamp:yyyy-MM-dd}`, UTC), GZIP JSON Lines, encrypted, with error logs: many small puts
 * become a few objects per buffer interval instead of one object per request. Its role may write
 * only that prefix and its error prefix.
 */
export class BucketDeliveryStream extends Construct {
  readonly deliveryStream: CfnDeliveryStream;
  readonly deliveryStreamName: string;
  readonly deliveryStreamArn: string;

  constructor(scope: Construct, id: string, props: BucketDeliveryStreamProps) {
    super(scope, id);
    const bucket = props.rawBucket;
    for (const [name, prefix] of [
      ['prefix', props.prefix],
      ['errorPrefix', props.errorPrefix],
    ] as const) {
      if (!/^[a-z0-9-]+\/$/.test(prefix))
        throw new Error(`BucketDeliveryStream ${id}: ${name} is "${prefix}"; expected one folder name ending with "/"`);
    }
    const logGroup = new LogGroup(this, 'LogGroup', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const logStream = new LogStream(this, 'S3Delivery', { logGroup, removalPolicy: RemovalPolicy.RETAIN });

    const dataObjects = bucket.arnForObjects(`${props.prefix}*`);
    const errorObjects = bucket.arnForObjects(`${props.errorPrefix}*`);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com'),
      description: `Firehose delivery of ${props.carries} to the raw bucket`,
    });
    const policy = new iam.Policy(this, 'DeliveryPolicy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
          resources: [dataObjects, errorObjects],
        }),
        new iam.PolicyStatement({
          actions: ['logs:PutLogEvents'],
          resources: [`${logGroup.logGroupArn}:log-stream:${logStream.logStreamName}`],
        }),
      ],
    });
    policy.attachToRole(role);

    this.deliveryStream = new CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: role.roleArn,
        // The approximate arrival time of the object's oldest record, in UTC (Firehose custom prefixes).
        prefix: `${props.prefix}dt=!{timestamp:yyyy-MM-dd}/`,
        // A prefix with expressions needs an error prefix holding the error output type.
        errorOutputPrefix: `${props.errorPrefix}!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
        bufferingHints: { intervalInSeconds: props.bufferSeconds ?? 300, sizeInMBs: 64 },
        compressionFormat: 'GZIP',
        cloudWatchLoggingOptions: { enabled: true, logGroupName: logGroup.logGroupName, logStreamName: logStream.logStreamName },
      },
    });
    // Firehose checks its permissions on creation.
    this.deliveryStream.node.addDependency(policy);
    this.deliveryStreamName = this.deliveryStream.ref;
    this.deliveryStreamArn = this.deliveryStream.attrArn;

    acknowledgeWildcardResources(
      policy,
      `Firehose writes objects with generated keys under the ${props.prefix} and ${props.errorPrefix} prefixes of the raw bucket only.`,
      [dataObjects, errorObjects],
    );
  }
}

export interface ServingApiProps {
  readonly serve: IFunction;
  readonly ingestEvents: IFunction;
  readonly admin: IFunction;
  readonly logRetention: RetentionDays;
  /** Steady-state requests per second across the API. */
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** The HTTP API: public home and events routes, IAM-authorized admin routes, access logs, throttling. */
export class ServingApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServingApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'HttpApi', {
      description: 'home-shelves: home screen shelves, feedback events, admin',
      createDefaultStage: false,
    });
    this.accessLogGroup = new LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            sourceIp: '$context.identity.sourceIp',
            caller: '$context.identity.caller',
          }),
        ),
      },
    });

    // THE route table (lib/api/routes.ts) decides every route, its Lambda and its authorization.
    const functions: Partial<Record<FunctionKey, IFunction>> = { serve: props.serve, ingestEvents: props.ingestEvents, admin: props.admin };
    const integrations = new Map<FunctionKey, HttpLambdaIntegration>();
    const iamAuth = new HttpIamAuthorizer();
    const publicRoutes: HttpRoute[] = [];
    for (const [key, route] of Object.entries(ROUTES as RouteTable)) {
      const fn = functions[route.fn];
      if (fn === undefined)
        throw new Error(`route ${key} needs the ${route.fn} function; ServingApi has ${Object.keys(functions).join(', ')}`);
      const integration = integrations.get(route.fn) ?? new HttpLambdaIntegration(`${pascalCase(route.fn)}Integration`, fn);
      integrations.set(route.fn, integration);
      const { method, path } = parseRouteKey(key);
      const methods = [HttpMethod[method as keyof typeof HttpMethod]];
      const added = this.api.addRoutes({ path, methods, integration, ...(route.auth === 'iam' ? { authorizer: iamAuth } : {}) });
      if (route.auth === 'public') publicRoutes.push(...added);
    }
    for (const route of publicRoutes) {
      acknowledgeRule(
        route,
        'AwsSolutions-APIG4',
        'The app calls the home and events routes for every listener, signed in or not, without AWS credentials; the body carries an opaque user id, the stage throttles, and these routes change no model or endpoint (the admin routes use IAM).',
      );
    }
  }

  /** The API's base URL. */
  get url(): string {
    return this.api.apiEndpoint;
  }
}

function pascalCase(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}
