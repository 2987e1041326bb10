/**
 * The local SageMaker training runner: runs a CreateTrainingJob request the way the training
 * container sees it, without Docker.
 *
 * The container contract (https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-running-container.html)
 * is a directory tree, here rooted at `<home>/sagemaker/<TrainingJobName>/` instead of `/opt/ml`:
 *   input/config/hyperparameters.json   the HyperParameters (string values)
 *   input/config/resourceconfig.json    one host, algo-1
 *   input/config/inputdataconfig.json   the channels
 *   input/data/<channel>/               every object under the channel's S3Uri
 *   model/                              what the entrypoint writes; tarred to model.tar.gz
 *   output/failure                      the failure reason the entrypoint writes before exiting non-zero
 *   output/data/                        extra outputs; tarred to output.tar.gz when not empty
 * The entrypoint learns the root from `SM_ROOT` (its only difference from the container), plus the
 * usual SM_MODEL_DIR, SM_CHANNEL_<NAME>, SM_HPS, SM_OUTPUT_DATA_DIR variables.
 *
 * The program is the container's own: the esbuild bundle of the entrypoint (training-bundle-cache.ts
 * keeps it, rebuilt when a source changes), run on plain `node`. An entrypoint given as TypeScript
 * source runs through tsx instead.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { create as createTar } from 'tar';
import { z } from 'zod';
import { downloadPrefix, joinS3Uri, uploadFile } from '../aws/s3-uri.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './engines.ts';
import { cachedTrainingBundle } from './training-bundle-cache.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The training entrypoint the container runs (bundled), relative to the repository root. */
export const DEFAULT_TRAINING_ENTRYPOINT = 'lib/train/sagemaker-entrypoint.ts';
/** Environment variable that replaces `/opt/ml` for the entrypoint. */
export const SM_ROOT_ENV = 'SM_ROOT';
/** Preloaded into the job's process: reports its peak RSS on file descriptor 3 at exit. */
const PEAK_RSS_PRELOAD = fileURLToPath(new URL('./child-peak-rss.mjs', import.meta.url));
/** How often the runner also reads the job's VmHWM (a kill skips the job's own exit report). */
const HWM_SAMPLE_MS = 250;
/** SageMaker keeps the first 1024 characters of output/failure as FailureReason. */
const FAILURE_REASON_LIMIT = 1024;

/** The part of a CreateTrainingJob request the local runner honours. */
export const CreateTrainingJobSchema = z.looseObject({
  TrainingJobName: z.string().regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'TrainingJobName: 1-63 letters, digits or dashes'),
  AlgorithmSpecification: z.looseObject({ TrainingImage: z.string().optional(), TrainingInputMode: z.string().optional() }),
  RoleArn: z.string(),
  HyperParameters: z.record(z.string(), z.string()).optional(),
  InputDataConfig: z
    .array(
      z.looseObject({
        ChannelName: z.string().regex(/^[A-Za-z0-9.\-_]+$/),
        DataSource: z.looseObject({ S3DataSource: z.looseObject({ S3Uri: z.string(), S3DataType: z.string().optional() }) }),
        ContentType: z.string().optional(),
      }),
    )
    .optional(),
  OutputDataConfig: z.looseObject({ S3OutputPath: z.string() }),
  ResourceConfig: z.looseObject({ InstanceType: z.string().optional(), InstanceCount: z.number().optional() }).optional(),
  StoppingCondition: z.looseObject({ MaxRuntimeInSeconds: z.number().optional() }).optional(),
});
export type CreateTrainingJobRequest = z.infer<typeof CreateTrainingJobSchema>;

/** What DescribeTrainingJob (and so createTrainingJob.sync) returns, reduced to the useful part. */
export interface TrainingJobDescription {
  readonly TrainingJobName: string;
  readonly TrainingJobArn: string;
  readonly TrainingJobStatus: 'Completed' | 'Failed';
  readonly SecondaryStatus: 'Completed' | 'Failed' | 'MaxRuntimeExceeded';
  readonly FailureReason?: string;
  readonly ModelArtifacts: { readonly S3ModelArtifacts: string };
  readonly HyperParameters: Record<string, string>;
  readonly AlgorithmSpecification: CreateTrainingJobRequest['AlgorithmSpecification'];
  readonly RoleArn: string;
  readonly InputDataConfig: NonNullable<CreateTrainingJobRequest['InputDataConfig']>;
  readonly OutputDataConfig: CreateTrainingJobRequest['OutputDataConfig'];
  /** Epoch milliseconds, as Step Functions renders SageMaker timestamps. */
  readonly TrainingStartTime: number;
  readonly TrainingEndTime: number;
  readonly TrainingTimeInSeconds: number;
}

/**
 * A failed training job as Step Functions reports it: Error `States.TaskFailed`, Cause the JSON of
 * DescribeTrainingJob (with FailureReason), so Retry/Catch match as in AWS.
 */
export class TrainingJobFailedError extends Error {
  override readonly name = 'States.TaskFailed';
  constructor(readonly description: TrainingJobDescription) {
    super(JSON.stringify(description));
  }
}

/** A request SageMaker would refuse (ValidationException), named as Step Functions reports it. */
export class TrainingJobRequestError extends Error {
  override readonly name = 'SageMaker.AmazonSageMakerException';
}

export interface TrainingRunnerOptions {
  /** Root of local state; the job directory is `<home>/sagemaker/<TrainingJobName>`. */
  readonly home: string;
  /**
   * Entrypoint module, absolute or relative to the repository root (`.ts` runs through tsx); default
   * the training image's bundle of DEFAULT_TRAINING_ENTRYPOINT (pass DEFAULT_TRAINING_ENTRYPOINT to run it from source).
   */
  readonly entrypoint?: string;
  /** Receives every line the entrypoint prints, already prefixed; default: stderr. */
  readonly log?: (line: string) => void;
}

/** What a local training job's process used: CloudWatch's MemoryUtilization, in a local form. */
export interface TrainingJobUsage {
  readonly TrainingJobName: string;
  /** The job process's peak resident set (all its threads), bytes; 0 when it could not be read. */
  readonly peakRssBytes: number;
  /** Wall time of the entrypoint's process, milliseconds. */
  readonly wallMs: number;
}

const usageListeners = new Set<(usage: TrainingJobUsage) => void>();

/**
 * Calls `listener` after each local training job's process ends, failed or not; returns the
 * unsubscribe function. A listener rather than a field of the description, which stays as
 * DescribeTrainingJob's (it is the Train state's output).
 */
export function onTrainingJobUsage(listener: (usage: TrainingJobUsage) => void): () => void {
  usageListeners.add(listener);
  return () => usageListeners.delete(listener);
}

/** Runs one training job locally and returns its description; throws TrainingJobFailedError on failure. */
export async function runTrainingJob(request: unknown, options: TrainingRunnerOptions): Promise<TrainingJobDescription> {
  const parsed = CreateTrainingJobSchema.safeParse(request);
  if (!parsed.success) throw new TrainingJobRequestError(`CreateTrainingJob request is invalid:\n${z.prettifyError(parsed.error)}`);
  const job = parsed.data;
  const name = job.TrainingJobName;
  const root = join(resolve(options.home), 'sagemaker', name);
  const dirs = {
    config: join(root, 'input', 'config'),
    data: join(root, 'input', 'data'),
    model: join(root, 'model'),
    output: join(root, 'output'),
    outputData: join(root, 'output', 'data'),
  };
  // A job name is unique in AWS; locally a re-run with the same name starts from a clean directory.
  await rm(root, { recursive: true, force: true });
  await Promise.all(Object.values(dirs).map((dir) => mkdir(dir, { recursive: true })));

  // The bundle is checked (or built) while the channels download.
  const program =
    options.entrypoint !== undefined
      ? Promise.resolve(resolve(REPO_ROOT, options.entrypoint))
      : cachedTrainingBundle().then((bundle) => bundle.entrypoint);
  // A failed build surfaces where it is awaited; until then it must not count as unhandled.
  program.catch(() => undefined);
  const hyperParameters = job.HyperParameters ?? {};
  const channels = job.InputDataConfig ?? [];
  await writeFile(join(dirs.config, 'hyperparameters.json'), JSON.stringify(hyperParameters, null, 2));
  await writeFile(
    join(dirs.config, 'resourceconfig.json'),
    JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'], network_interface_name: 'eth0' }, null, 2),
  );
  await writeFile(
    join(dirs.config, 'inputdataconfig.json'),
    JSON.stringify(
      Object.fromEntries(
        channels.map((c) => [
          c.ChannelName,
          {
            TrainingInputMode: job.AlgorithmSpecification.TrainingInputMode ?? 'File',
            S3DistributionType: 'FullyReplicated',
            RecordWrapperType: 'None',
            ...(c.ContentType ? { ContentType: c.ContentType } : {}),
          },
        ]),
      ),
      null,
      2,
    ),
  );
  for (const channel of channels) await downloadPrefix(channel.DataSource.S3DataSource.S3Uri, join(dirs.data, channel.ChannelName));

  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // The real path: an ES module's import.meta.url names it so, and the entrypoint runs main() only
  // when that equals argv[1] (a symlinked node_modules or temporary folder would skip training).
  const entrypoint = await realpath(await program);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [SM_ROOT_ENV]: root,
    SM_MODEL_DIR: dirs.model,
    SM_INPUT_DIR: join(root, 'input'),
    SM_INPUT_CONFIG_DIR: dirs.config,
    SM_OUTPUT_DIR: dirs.output,
    SM_OUTPUT_DATA_DIR: dirs.outputData,
    SM_HPS: JSON.stringify(hyperParameters),
    SM_CHANNELS: JSON.stringify(channels.map((c) => c.ChannelName)),
    SM_CURRENT_HOST: 'algo-1',
    SM_HOSTS: JSON.stringify(['algo-1']),
    TRAINING_JOB_NAME: name,
  };
  for (const channel of channels)
    env[`SM_CHANNEL_${channel.ChannelName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = join(dirs.data, channel.ChannelName);

  const started = Date.now();
  const maxRuntimeMs = (job.StoppingCondition?.MaxRuntimeInSeconds ?? 86_400) * 1000;
  const exit = await runEntrypoint(entrypoint, env, `[${name}] `, log, maxRuntimeMs);
  const ended = Date.now();
  for (const listener of usageListeners) listener({ TrainingJobName: name, peakRssBytes: exit.peakRssBytes, wallMs: ended - started });

  const outputPrefix = joinS3Uri(job.OutputDataConfig.S3OutputPath, name, 'output');
  const description: TrainingJobDescription = {
    TrainingJobName: name,
    TrainingJobArn: `arn:aws:sagemaker:${LOCAL_REGION}:${LOCAL_ACCOUNT}:training-job/${name.toLowerCase()}`,
    TrainingJobStatus: exit.code === 0 ? 'Completed' : 'Failed',
    SecondaryStatus: exit.timedOut ? 'MaxRuntimeExceeded' : exit.code === 0 ? 'Completed' : 'Failed',
    ModelArtifacts: { S3ModelArtifacts: joinS3Uri(outputPrefix, 'model.tar.gz') },
    HyperParameters: hyperParameters,
    AlgorithmSpecification: job.AlgorithmSpecification,
    RoleArn: job.RoleArn,
    InputDataConfig: channels,
    OutputDataConfig: job.OutputDataConfig,
    TrainingStartTime: started,
    TrainingEndTime: ended,
    TrainingTimeInSeconds: Math.max(1, Math.round((ended - started) / 1000)),
  };
  if (exit.code !== 0) {
    const reason = exit.timedOut
      ? `training job exceeded MaxRuntimeInSeconds (${maxRuntimeMs / 1000})`
      : await failureReason(dirs.output, exit);
    throw new TrainingJobFailedError({ ...description, FailureReason: reason });
  }

  const modelTar = join(dirs.output, 'model.tar.gz');
  await tarDirectory(dirs.model, modelTar);
  await uploadFile(modelTar, description.ModelArtifacts.S3ModelArtifacts, 'application/gzip');
  if ((await listFiles(dirs.outputData)).length > 0) {
    const outputTar = join(dirs.output, 'output.tar.gz');
    await tarDirectory(dirs.outputData, outputTar);
    await uploadFile(outputTar, joinS3Uri(outputPrefix, 'output.tar.gz'), 'application/gzip');
  }
  return description;
}

/** Gzipped tar of a directory's files, sorted, with fixed times and owners: same files, same bytes. */
export async function tarDirectory(dir: string, file: string): Promise<void> {
  const files = await listFiles(dir);
  await createTar({ gzip: true, file, cwd: dir, portable: true, mtime: new Date(0), noDirRecurse: true }, files);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

async function failureReason(outputDir: string, exit: { code: number | null; signal: string | null }): Promise<string> {
  try {
    const text = (await readFile(join(outputDir, 'failure'), 'utf8')).trim();
    if (text !== '') return text.slice(0, FAILURE_REASON_LIMIT);
  } catch {
    // No failure file: report the exit status instead, as SageMaker does.
  }
  return `AlgorithmError: training entrypoint exited with ${exit.signal ?? `code ${exit.code}`} and wrote no output/failure`;
}

function runEntrypoint(
  entrypoint: string,
  env: NodeJS.ProcessEnv,
  prefix: string,
  log: (line: string) => void,
  maxRuntimeMs: number,
): Promise<{ code: number | null; signal: string | null; timedOut: boolean; peakRssBytes: number }> {
  return new Promise((done, fail) => {
    const loader = entrypoint.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = spawn(process.execPath, [...loader, '--import', PEAK_RSS_PRELOAD, entrypoint], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    // The job's own report at exit (ru_maxrss) is exact; the sampled VmHWM covers a job that is killed.
    let peakKib = 0;
    const report = new Promise<void>((closed) => {
      const fd3 = child.stdio[3] as Readable | null | undefined;
      if (fd3 === null || fd3 === undefined) return closed();
      const lines = createInterface({ input: fd3 });
      lines.on('line', (line) => {
        const kib = Number(/"maxRssKib":(\d+)/.exec(line)?.[1]);
        if (Number.isFinite(kib)) peakKib = Math.max(peakKib, kib);
      });
      lines.on('close', closed);
    });
    const sampler = setInterval(() => {
      peakKib = Math.max(peakKib, vmHwmKib(child.pid));
    }, HWM_SAMPLE_MS);
    sampler.unref();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, maxRuntimeMs);
    const streams = [child.stdout, child.stderr].map(
      (stream) =>
        new Promise<void>((closed) => {
          const lines = createInterface({ input: stream as Readable });
          lines.on('line', (line) => log(prefix + line));
          lines.on('close', closed);
        }),
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      clearInterval(sampler);
      fail(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      void Promise.all([...streams, report]).then(() => done({ code, signal, timedOut, peakRssBytes: peakKib * 1024 }));
    });
  });
}

/** A process's peak resident set so far (VmHWM of /proc/<pid>/status), KiB; 0 when unreadable (not Linux, or gone). */
function vmHwmKib(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
