/**
 * No state payload grows with the number of partitions: a small world over ~400 days runs through the
 * synthesized definition on the local engines (BuildFeatures as a Distributed Map), once over 400 daily
 * partitions and once over 40, and the largest input or output of any state (child executions included)
 * stays under the same fixed bound. Step Functions' own limit is 256 KiB; an inline Map's results
 * alone would pass it at about 300 partitions.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../lib/core/rng.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { runShelfPipeline } from '../../lib/local/pipeline.ts';
import { uploadDataset } from '../../lib/local/seed-data.ts';
import { STATES } from '../../lib/wiring/pipeline.ts';
import { RAW_BUCKET } from '../../lib/wiring/resources.ts';

/** The bound every state's input and output stays under, whatever the number of partitions. */
const PAYLOAD_BOUND_BYTES = 16 * 1024;
const DAYS = 410;
const USERS = 25;
const SHOWS = 60;
const DAY = 86_400_000;
const START = Date.parse('2025-10-01T00:00:00Z');

/**
 * A synthetic raw data set: a small fixed catalog, a few listeners, and one tiny partition per day for
 * DAYS days (a simulated world that long would grow its catalog to 140k episodes, beside the point here).
 * Each listener favours a few shows, so training and evaluation have something to find.
 */
async function writeSyntheticDataset(dir: string): Promise<void> {
  const rng = new Rng(11);
  const lines = (rows: readonly object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
  await mkdir(join(dir, 'catalog'), { recursive: true });
  await mkdir(join(dir, 'users'), { recursive: true });
  const categories = ['news', 'comedy', 'sport', 'science'];
  await writeFile(
    join(dir, 'catalog', 'catalog.jsonl'),
    lines(
      Array.from({ length: SHOWS }, (_, i) => ({
        itemId: `show-${i}`,
        type: 'show',
        title: `Show ${i}`,
        categories: [categories[i % categories.length]],
        publisher: `publisher-${i % 7}`,
        language: 'en',
        publishedAt: '2025-01-01T00:00:00Z',
      })),
    ),
  );
  await writeFile(
    join(dir, 'users', 'users.jsonl'),
    lines(
      Array.from({ length: USERS }, (_, u) => ({
        userId: `user-${u}`,
        country: 'SE',
        signupAt: '2025-09-01T00:00:00Z',
        onboardingGenres: [categories[u % categories.length]],
        device: 'mobile',
        ageBand: '25-34',
      })),
    ),
  );
  for (let day = 0; day < DAYS; day++) {
    const dt = new Date(START + day * DAY).toISOString().slice(0, 10);
    const events = [];
    for (let u = 0; u < USERS; u++) {
      if (rng.next() < 0.6) continue;
      const favourite = (u * 7 + Math.floor(rng.next() * 4)) % SHOWS;
      const itemId = `show-${rng.next() < 0.8 ? favourite : Math.floor(rng.next() * SHOWS)}`;
      const hour = 6 + Math.floor(rng.next() * 14);
      events.push({
        userId: `user-${u}`,
        itemId,
        eventType: 'play',
        msPlayed: 600_000,
        progress: 0.6,
        timestamp: new Date(START + day * DAY + hour * 3_600_000).toISOString(),
        device: 'mobile',
        country: 'SE',
        localHour: hour,
      });
    }
    await mkdir(join(dir, 'events', `dt=${dt}`), { recursive: true });
    await writeFile(join(dir, 'events', `dt=${dt}`, 'part-00000.jsonl'), lines(events));
  }
}

let home: string;
let engines: LocalEngines;

beforeAll(async () => {
  process.env.LOG_LEVEL = 'ERROR';
  home = await mkdtemp(join(tmpdir(), 'shelves-payload-'));
  engines = await startLocalEngines({ home });
  const dataset = join(home, 'dataset');
  await writeSyntheticDataset(dataset);
  await uploadDataset(dataset, RAW_BUCKET.localName);
}, 300_000);

afterAll(async () => {
  await engines?.stop();
  await rm(home, { recursive: true, force: true });
});

/** Runs the pipeline over the last `windowDays` partitions; the largest state input/output, and the partitions built. */
async function largestStatePayload(runId: string, windowDays: number) {
  let largest = { bytes: 0, state: '', type: '' };
  const built = new Set<number>();
  const result = await runShelfPipeline(
    { shelf: 'podcasts', runId, windowDays, hyperparameters: { epochs: '2', dim: '16' } },
    {
      home,
      trainingLog: () => undefined,
      onEvent: (_shelf, event) => {
        const payload = event.type === 'StateEntered' ? event.input : event.type === 'StateExited' ? event.output : undefined;
        if (payload === undefined) return;
        const bytes = Buffer.byteLength(JSON.stringify(payload));
        if (bytes > largest.bytes) largest = { bytes, state: event.state ?? '', type: event.type };
        if (event.mapState === STATES.buildFeatures && event.type === 'StateExited' && event.index !== undefined) built.add(event.index);
      },
    },
  );
  return { result, largest, built: built.size };
}

describe('state payloads at scale', () => {
  it(`stay under ${PAYLOAD_BOUND_BYTES} bytes with 400 daily partitions and with 40`, { timeout: 1_500_000 }, async () => {
    const many = await largestStatePayload('p400', 400);
    expect(many.result.error).toBeUndefined();
    expect(many.result.status).toBe('SUCCEEDED');
    expect(many.built).toBe(400);

    const few = await largestStatePayload('p40', 40);
    expect(few.result.status).toBe('SUCCEEDED');
    expect(few.built).toBe(40);

    // The figures, for the record (README: the architecture at scale).
    console.info(
      `largest state payload: ${many.largest.bytes} B at 400 partitions (${many.largest.type} ${many.largest.state}), ${few.largest.bytes} B at 40 (${few.largest.type} ${few.largest.state})`,
    );
    expect(many.largest.bytes).toBeLessThan(PAYLOAD_BOUND_BYTES);
    expect(few.largest.bytes).toBeLessThan(PAYLOAD_BOUND_BYTES);
    // Ten times the partitions, (almost) the same largest state: nothing in it is per partition.
    expect(Math.abs(many.largest.bytes - few.largest.bytes)).toBeLessThan(256);
  });
});
