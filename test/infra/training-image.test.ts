/**
 * The training image's contents: the esbuild bundle of the SageMaker entrypoint and its worker
 * thread runs a real (tiny) training job under the local SageMaker runner, and on plain `node` with
 * no node_modules in reach (as in the image); the Docker build context holds every file the bundle
 * is built from; the Dockerfile pins its base by digest and runs as an unprivileged user.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { IgnoreStrategy } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listKeys, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { CatalogItemSchema, ListeningEventSchema, UserSchema } from '../../lib/core/contract.ts';
import { bundleTrainingEntrypoint, TRAINING_BUNDLE } from '../../lib/infra/training-bundle.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { runTrainingJob } from '../../lib/local/sagemaker-runner.ts';
import { CHANNEL_FILES, toJsonLines } from '../../lib/pipeline/channel.ts';
import { generateWorld } from '../../lib/sim/world.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAY = 86_400_000;
/** Two threads: the job runs the worker-thread bundle too. */
const HYPERPARAMETERS = { shelf: 'playlists', algo: 'hybrid-warp', epochs: '2', dim: '8', threads: '2', seed: '7' };

let home: string;
let engines: LocalEngines;
let bundle: Awaited<ReturnType<typeof bundleTrainingEntrypoint>>;
let channelDir: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'shelves-image-'));
  bundle = await bundleTrainingEntrypoint(join(home, 'bundle'));
  // A tiny world, validated as ValidateData would, as the train channel.
  const world = join(home, 'world');
  const manifest = await generateWorld(world, { users: 150, days: 14, seed: 3, start: '2026-09-01' });
  const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  const events = [];
  for (const part of manifest.partitions)
    for (const file of part.files)
      for (const l of await lines(join(world, file))) {
        const parsed = ListeningEventSchema.safeParse(JSON.parse(l));
        if (parsed.success) events.push(parsed.data);
      }
  const valid = <T>(schema: { safeParse: (v: unknown) => { success: boolean; data?: T } }, all: string[]) =>
    all.map((l) => schema.safeParse(JSON.parse(l))).flatMap((p) => (p.success ? [p.data as T] : []));
  channelDir = join(home, 'channel');
  await mkdir(channelDir, { recursive: true });
  await writeFile(join(channelDir, CHANNEL_FILES.events), toJsonLines(events));
  await writeFile(
    join(channelDir, CHANNEL_FILES.catalog),
    toJsonLines(valid(CatalogItemSchema, await lines(join(world, 'catalog', 'catalog.jsonl')))),
  );
  await writeFile(join(channelDir, CHANNEL_FILES.users), toJsonLines(valid(UserSchema, await lines(join(world, 'users', 'users.jsonl')))));
  await writeFile(
    join(channelDir, CHANNEL_FILES.meta),
    JSON.stringify({
      shelf: 'playlists',
      cutoff: Date.parse(manifest.end) - 3 * DAY,
      testDays: 3,
      dataSnapshot: 'bundle-test',
      transformVersion: 'bundle-test',
      window: 'train',
    }),
  );
  engines = await startLocalEngines({ home: join(home, 'engines') });
  for (const name of Object.values(CHANNEL_FILES))
    await putObjectBytes(`s3://home-shelves-features/runs/playlists/bundle/train/${name}`, await readFile(join(channelDir, name)));
}, 240_000);

afterAll(async () => {
  await engines?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('the training bundle', () => {
  it('is two self-contained modules: only node: built-ins are imported', async () => {
    for (const file of [bundle.entrypoint, bundle.worker]) {
      const text = await readFile(file, 'utf8');
      const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]);
      expect(specifiers.filter((s) => !s?.startsWith('node:'))).toEqual([]);
    }
  });

  it('trains a model under the local SageMaker runner, on two worker threads', async () => {
    const lines: string[] = [];
    const done = await runTrainingJob(
      {
        TrainingJobName: 'hs-bundle-test',
        AlgorithmSpecification: { TrainingImage: 'local', TrainingInputMode: 'File' },
        RoleArn: 'arn:aws:iam::000000000000:role/local',
        HyperParameters: HYPERPARAMETERS,
        InputDataConfig: [
          {
            ChannelName: 'train',
            DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://home-shelves-features/runs/playlists/bundle/train/' } },
          },
        ],
        OutputDataConfig: { S3OutputPath: 's3://home-shelves-artifacts/runs/playlists/bundle/' },
        StoppingCondition: { MaxRuntimeInSeconds: 300 },
      },
      { home: join(home, 'runner'), entrypoint: bundle.entrypoint, log: (l) => lines.push(l) },
    );
    expect(done.TrainingJobStatus).toBe('Completed');
    expect(lines.join('\n')).toMatch(/2 thread\(s\)/);
    expect(lines.join('\n')).toMatch(/model written: kind hybrid/);
    expect(await listKeys('s3://home-shelves-artifacts/runs/playlists/bundle/hs-bundle-test/')).toEqual([
      'runs/playlists/bundle/hs-bundle-test/output/model.tar.gz',
    ]);
  }, 240_000);

  it('runs on plain node with no node_modules in reach, as in the image, against the /opt/ml layout', async () => {
    // A copy of the bundle alone, in a folder with no package.json or node_modules above it.
    const image = await mkdtemp(join(tmpdir(), 'shelves-image-program-'));
    const smRoot = join(home, 'opt-ml');
    try {
      await cp(join(home, 'bundle'), image, { recursive: true });
      await mkdir(join(smRoot, 'input', 'config'), { recursive: true });
      await writeFile(join(smRoot, 'input', 'config', 'hyperparameters.json'), JSON.stringify(HYPERPARAMETERS));
      await cp(channelDir, join(smRoot, 'input', 'data', 'train'), { recursive: true });
      const { stdout } = await promisify(execFile)(process.execPath, [join(image, TRAINING_BUNDLE.entrypoint), 'train'], {
        cwd: image,
        env: { PATH: process.env.PATH ?? '', SM_ROOT: smRoot },
        timeout: 240_000,
      });
      expect(stdout).toMatch(/model written/);
      expect((await readdir(join(smRoot, 'model'))).sort()).toEqual(['manifest.json', 'model.bin']);
    } finally {
      await rm(image, { recursive: true, force: true });
    }
  }, 240_000);

  it('writes the failure reason where SageMaker reads it when the hyperparameters are wrong', async () => {
    const smRoot = join(home, 'opt-ml-bad');
    await mkdir(join(smRoot, 'input', 'config'), { recursive: true });
    await writeFile(join(smRoot, 'input', 'config', 'hyperparameters.json'), JSON.stringify({ ...HYPERPARAMETERS, algo: 'nope' }));
    const failure = await promisify(execFile)(process.execPath, [bundle.entrypoint], {
      env: { PATH: process.env.PATH ?? '', SM_ROOT: smRoot },
    }).catch((e: unknown) => e as { code: number });
    expect((failure as { code: number }).code).toBe(1);
    expect(await readFile(join(smRoot, 'output', 'failure'), 'utf8')).toMatch(/^invalid hyperparameters:[\s\S]*algo/);
  }, 60_000);
});

describe('the Docker build context (.dockerignore)', () => {
  let ignore: IgnoreStrategy;
  beforeAll(async () => {
    const patterns = (await readFile(join(REPO_ROOT, '.dockerignore'), 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    ignore = IgnoreStrategy.docker(REPO_ROOT, patterns);
  });

  it('holds every repository file the bundle is built from, and the manifests npm ci needs', () => {
    const sources = bundle.inputs.filter((f) => !f.startsWith('node_modules/'));
    expect(sources.length).toBeGreaterThan(10);
    const missing = [...sources, 'package.json', 'package-lock.json', 'lib/infra/training-bundle.ts'].filter((f) =>
      ignore.ignores(join(REPO_ROOT, f)),
    );
    expect(missing).toEqual([]);
  });

  it.each(['lib/infra/home-shelves-stack.ts', 'lib/local/engines.ts', 'test/infra/training-image.test.ts', 'cdk.json', 'lambdas/serve.ts'])(
    'leaves out %s (not training code)',
    (file) => {
      expect(ignore.ignores(join(REPO_ROOT, file))).toBe(true);
    },
  );
});

describe('the Dockerfile', () => {
  let dockerfile: string;
  let stages: string[];
  beforeAll(async () => {
    dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    stages = dockerfile.split(/^FROM /m).slice(1);
  });

  it('pins every base image by digest', () => {
    const args = Object.fromEntries([...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) =>
      (m[1] ?? '').replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? ''),
    );
    expect(bases.length).toBe(2);
    for (const base of bases) expect(base).toMatch(/^node:22[\w.-]*@sha256:[0-9a-f]{64}$/);
  });

  it('runs the bundle as an unprivileged user, with no package manager step in the final image', () => {
    const final = stages[stages.length - 1] ?? '';
    expect(final).toMatch(/^USER (?!root\b|0\b)\w+$/m);
    expect(final).not.toMatch(/\bnpm\b|\bnpx\b|\btsx\b/);
    expect(final).toMatch(/ENTRYPOINT \["node", "\/opt\/program\/sagemaker-entrypoint\.mjs"\]/);
  });
});
