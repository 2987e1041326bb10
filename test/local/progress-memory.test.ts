import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { PeakRssSampler } from '../../lib/local/peak-memory.ts';
import type { ShelfRunResult } from '../../lib/local/pipeline.ts';
import { megabytes, memoryText, resultTable } from '../../lib/local/progress.ts';
import { onTrainingJobUsage, runTrainingJob, TrainingJobFailedError, type TrainingJobUsage } from '../../lib/local/sagemaker-runner.ts';

const MB = 1e6;
const ENTRYPOINT = 'test/local/fixtures/allocating-entrypoint.ts';

/** Blocks this thread for `ms`, as a step computing synchronously does. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

describe('PeakRssSampler', () => {
  it('keeps the peak a span reached while the main thread was blocked, after the memory is freed', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const sampler = new PeakRssSampler(20);
    try {
      const slot = sampler.open();
      let held: Buffer | undefined = Buffer.alloc(200 * MB, 1);
      busy(300);
      expect(held.length).toBe(200 * MB);
      held = undefined;
      gc();
      await new Promise((done) => setTimeout(done, 50));
      const after = process.memoryUsage.rss();
      const span = sampler.close(slot);
      expect(span.peakRssBytes - span.startRssBytes).toBeGreaterThanOrEqual(180 * MB);
      // The peak is not a reading taken at close: the memory is gone by then.
      expect(span.peakRssBytes - after).toBeGreaterThanOrEqual(100 * MB);
      expect(sampler.maxRssBytes()).toBeGreaterThanOrEqual(span.peakRssBytes);
    } finally {
      await sampler.stop();
    }
  });

  it('measures each open span from its own start', async () => {
    const sampler = new PeakRssSampler(20);
    try {
      const outer = sampler.open();
      const held = Buffer.alloc(100 * MB, 1);
      busy(100);
      const inner = sampler.open();
      busy(100);
      const innerSpan = sampler.close(inner);
      const outerSpan = sampler.close(outer);
      expect(held.length).toBe(100 * MB);
      expect(outerSpan.peakRssBytes - outerSpan.startRssBytes).toBeGreaterThanOrEqual(90 * MB);
      expect(innerSpan.startRssBytes - outerSpan.startRssBytes).toBeGreaterThanOrEqual(90 * MB);
      expect(innerSpan.peakRssBytes - innerSpan.startRssBytes).toBeLessThan(50 * MB);
    } finally {
      await sampler.stop();
    }
  });
});

describe('training job usage', () => {
  let home: string;
  let engines: LocalEngines;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'shelves-mem-'));
    engines = await startLocalEngines({ home });
    await putObjectBytes('s3://home-shelves-features/mem/train/part-0.json', '{}');
  });
  afterAll(async () => {
    await engines.stop();
    await rm(home, { recursive: true, force: true });
  });

  const request = (name: string, hyperParameters: Record<string, string>) => ({
    TrainingJobName: name,
    AlgorithmSpecification: { TrainingImage: 'local', TrainingInputMode: 'File' },
    RoleArn: 'arn:aws:iam::000000000000:role/local',
    HyperParameters: hyperParameters,
    InputDataConfig: [
      { ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://home-shelves-features/mem/train/' } } },
    ],
    OutputDataConfig: { S3OutputPath: 's3://home-shelves-artifacts/models/' },
    StoppingCondition: { MaxRuntimeInSeconds: 60 },
  });

  async function usageOf(name: string, hyperParameters: Record<string, string>): Promise<{ usage: TrainingJobUsage[]; error?: unknown }> {
    const usage: TrainingJobUsage[] = [];
    const unsubscribe = onTrainingJobUsage((u) => usage.push(u));
    try {
      await runTrainingJob(request(name, hyperParameters), { home, entrypoint: ENTRYPOINT, log: () => undefined });
      return { usage };
    } catch (error) {
      return { usage, error };
    } finally {
      unsubscribe();
    }
  }

  it("reports the job process's own peak RSS, which grows with what the job holds", async () => {
    const small = await usageOf('mem-small', { allocateMb: '0' });
    const large = await usageOf('mem-large', { allocateMb: '300' });
    expect(small.usage).toHaveLength(1);
    expect(large.usage).toEqual([expect.objectContaining({ TrainingJobName: 'mem-large' })]);
    const [s, l] = [small.usage[0]?.peakRssBytes ?? 0, large.usage[0]?.peakRssBytes ?? 0];
    expect(s).toBeGreaterThan(20 * MB);
    // The job held 300 MB; the small job's peak may be its start-up (loading TypeScript), not a baseline below the large one's.
    expect(l).toBeGreaterThanOrEqual(300 * MB);
    expect(l - s).toBeGreaterThanOrEqual(200 * MB);
    expect(l - s).toBeLessThan(400 * MB);
  });

  it('reports the peak of a job that fails', async () => {
    const failed = await usageOf('mem-failed', { allocateMb: '250', exit: '2' });
    expect(failed.error).toBeInstanceOf(TrainingJobFailedError);
    expect(failed.usage[0]?.peakRssBytes).toBeGreaterThanOrEqual(250 * MB);
  });
});

describe('memory in the result table', () => {
  it('prints a Lambda step as process peak (+growth), the training job as its own peak', () => {
    const result: ShelfRunResult = {
      shelf: 'podcasts',
      runId: 'run-1',
      status: 'SUCCEEDED',
      outcome: 'deployed',
      stepMs: { ValidateData: 1500, Train: 4000 },
      stepMemory: {
        ValidateData: { processPeakBytes: 812.4 * MB, growthBytes: 120.2 * MB },
        Train: { processPeakBytes: 700 * MB, growthBytes: 10 * MB, jobPeakBytes: 1234.6 * MB },
      },
      peakRssBytes: 900 * MB,
      totalMs: 6000,
    };
    const table = resultTable(result);
    expect(table).toContain('peak RSS: ValidateData 812 MB (+120 MB), Train job 1,235 MB');
    expect(table).toContain('pipeline process peak RSS: 900 MB');
    expect(memoryText({ processPeakBytes: 5 * MB, growthBytes: 0 })).toBe('5 MB (+0 MB)');
    expect(megabytes(6_000_400_000)).toBe('6,000 MB');
  });
});
