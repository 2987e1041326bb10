import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listKeys, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { TrainingJobFailedError, TrainingJobRequestError, runTrainingJob, tarDirectory } from '../../lib/local/sagemaker-runner.ts';

const ENTRYPOINT = 'test/local/fixtures/train-entrypoint.ts';

function request(name: string, hyperParameters: Record<string, unknown>) {
  return {
    TrainingJobName: name,
    AlgorithmSpecification: { TrainingImage: 'local', TrainingInputMode: 'File' },
    RoleArn: 'arn:aws:iam::000000000000:role/local',
    HyperParameters: hyperParameters,
    InputDataConfig: [
      { ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://home-shelves-features/sm/train/' } } },
    ],
    OutputDataConfig: { S3OutputPath: 's3://home-shelves-artifacts/models/' },
    StoppingCondition: { MaxRuntimeInSeconds: 60 },
  };
}

let home: string;
let engines: LocalEngines;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'shelves-sm-'));
  engines = await startLocalEngines({ home });
  await putObjectBytes('s3://home-shelves-features/sm/train/nested/part-0.json', '{}');
});
afterAll(async () => {
  await engines.stop();
  await rm(home, { recursive: true, force: true });
});

describe('runTrainingJob', () => {
  it('lays out the job directory as the container sees /opt/ml and returns a completed description', async () => {
    const lines: string[] = [];
    const done = await runTrainingJob(request('sm-ok', { epochs: '3' }), { home, entrypoint: ENTRYPOINT, log: (l) => lines.push(l) });
    const jobDir = join(home, 'sagemaker', 'sm-ok');
    expect(done).toMatchObject({
      TrainingJobStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: 's3://home-shelves-artifacts/models/sm-ok/output/model.tar.gz' },
      HyperParameters: { epochs: '3' },
    });
    expect(JSON.parse(await readFile(join(jobDir, 'input', 'config', 'resourceconfig.json'), 'utf8'))).toMatchObject({
      current_host: 'algo-1',
      hosts: ['algo-1'],
    });
    expect(await readFile(join(jobDir, 'input', 'data', 'train', 'nested', 'part-0.json'), 'utf8')).toBe('{}');
    expect(lines).toEqual(['[sm-ok] training on 2 files', '[sm-ok] model written']);
    expect(await listKeys('s3://home-shelves-artifacts/models/sm-ok/')).toEqual(['models/sm-ok/output/model.tar.gz']);
  });

  it('reports an exit without output/failure by its exit code', async () => {
    const failure = await runTrainingJob(request('sm-exit', { exit: '3' }), { home, entrypoint: ENTRYPOINT, log: () => undefined }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(TrainingJobFailedError);
    expect((failure as TrainingJobFailedError).name).toBe('States.TaskFailed');
    expect((failure as TrainingJobFailedError).description).toMatchObject({
      TrainingJobStatus: 'Failed',
      FailureReason: expect.stringContaining('code 3'),
    });
  });

  it('refuses hyperparameters that are not strings, as SageMaker does', async () => {
    await expect(runTrainingJob(request('sm-bad', { epochs: 3 }), { home, entrypoint: ENTRYPOINT })).rejects.toThrow(
      TrainingJobRequestError,
    );
  });
});

describe('tarDirectory', () => {
  it('writes the same bytes for the same files whenever they were written', async () => {
    const dir = join(home, 'tar-src');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'b.bin'), 'bbb');
    await writeFile(join(dir, 'sub', 'a.json'), '{"a":1}');
    await tarDirectory(dir, join(home, 'one.tar.gz'));
    await new Promise((done) => setTimeout(done, 1100));
    await writeFile(join(dir, 'b.bin'), 'bbb');
    await tarDirectory(dir, join(home, 'two.tar.gz'));
    expect(Buffer.compare(await readFile(join(home, 'one.tar.gz')), await readFile(join(home, 'two.tar.gz')))).toBe(0);
  });
});
