/**
 * `npm run bench -- pss`: PublishServingState's write of listeners' batch items into the user-state
 * table on the local engines (dynalite in the engines' worker thread), as the local runner runs it: the
 * Distributed Map's shard tasks at once in one process, each calling `UserStateStore.putBatch`.
 *
 * Arms, interleaved in rounds in ONE run (same table, same load): `document` (the previous write: the
 * DocumentClient's BatchWriteCommand through the process-wide client, kept here as the baseline) and
 * `putBatch` (today's UserStateStore.putBatch). Each round writes fresh listeners, so the table grows
 * as in the pipeline. Per arm: items/s, and CPU-seconds per 1,000 items of the main thread (where the
 * SDK runs), of the engines' worker (dynalite) and of the whole process (also GC threads), from /proc.
 *
 * PSS_BENCH_ARMS (default `document,putBatch`), PSS_BENCH_USERS (listeners per arm and round, default 16,000), PSS_BENCH_ROUNDS (3),
 * PSS_BENCH_SHARDS (8, the pipeline's listener shards), PSS_BENCH_HISTORY (14 plays per listener: the
 * 1M x 14-day world's mean), PSS_BENCH_HOME (engines' home; default a new temporary directory).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { type BatchUserState, pumpBatchWrites, UserStateStore } from '../lib/aws/user-state.ts';
import { documentClient } from '../lib/aws/registry.ts';
import type { User } from '../lib/core/contract.ts';
import { MAX_SERVING_HISTORY } from '../lib/core/transforms/online-history.ts';
import { startLocalEngines } from '../lib/local/engines.ts';
import type { BenchFigures } from './run.ts';

const USERS = Number(process.env.PSS_BENCH_USERS ?? 16_000);
const ROUNDS = Number(process.env.PSS_BENCH_ROUNDS ?? 3);
const SHARDS = Number(process.env.PSS_BENCH_SHARDS ?? 8);
const HISTORY = Number(process.env.PSS_BENCH_HISTORY ?? 14);
const END = Date.parse('2026-10-01T00:00:00Z');
/** Clock ticks per second of /proc/<pid>/task/<tid>/stat (USER_HZ, 100 on Linux). */
const HZ = 100;

/** CPU-seconds of one thread of this process. */
function threadCpu(tid: number | string): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / HZ;
}

/** The busiest thread other than the main one: the engines' worker (dynalite, s3rver) in this bench. */
function engineTid(): string {
  let best = '';
  let most = -1;
  for (const tid of readdirSync('/proc/self/task')) {
    if (tid === String(process.pid)) continue;
    const used = threadCpu(tid);
    if (used > most) [best, most] = [tid, used];
  }
  return best;
}

/** CPU-seconds of this process's main thread (its tid is the pid), of the engines' worker and of all its threads. */
function cpu(engine: string): { main: number; engine: number; all: number } {
  const usage = process.cpuUsage();
  return { main: threadCpu(process.pid), engine: threadCpu(engine), all: (usage.user + usage.system) / 1e6 };
}

/** Listener `u` of the world: a profile and HISTORY plays over 2,000 items. */
function listener(u: number): BatchUserState {
  const userId = `user-${u.toString(36).padStart(6, '0')}`;
  const user: User = {
    userId,
    country: ['se', 'us', 'br', 'in'][u % 4] as string,
    signupAt: '2026-01-01T00:00:00Z',
    onboardingGenres: ['news', 'comedy'].slice(0, 1 + (u % 2)),
    device: 'mobile',
    ageBand: '25-34',
  };
  const history = Array.from({ length: HISTORY }, (_, j) => ({
    itemId: `ep-${(u * 7919 + j * 104_729) % 2000}`,
    ts: END - (HISTORY - j) * 3_600_000,
    eventType: j % 5 === 0 ? 'complete' : 'play',
    msPlayed: 600_000 + j,
    progress: 0.5,
    localHour: 8,
  }));
  return { userId, user, history };
}

/** Listeners [from, to) of one shard (every SHARDS-th), made as the writer pulls them. */
function* shard(from: number, to: number, k: number): Generator<BatchUserState> {
  for (let u = from + k; u < to; u += SHARDS) yield listener(u);
}

/** The previous putBatch: items through the DocumentClient (its marshalling, its stack resolved per send). */
async function documentPutBatch(table: string, states: Iterable<BatchUserState>, batchEnd: number, runId: string): Promise<number> {
  const request = (s: BatchUserState) => ({
    PutRequest: {
      Item: {
        userId: s.userId,
        sk: 'batch',
        ...(s.user ? { profile: JSON.stringify(s.user) } : {}),
        h: JSON.stringify(
          s.history.slice(-MAX_SERVING_HISTORY).map((e) => [e.itemId, e.ts, e.eventType, e.msPlayed, e.progress, e.localHour]),
        ),
        batchEnd,
        runId,
      },
    },
  });
  type Request = ReturnType<typeof request>;
  return pumpBatchWrites(
    states,
    request,
    async (pending: Request[]) =>
      ((await documentClient().send(new BatchWriteCommand({ RequestItems: { [table]: pending } }))).UnprocessedItems?.[table] ??
        []) as Request[],
    8,
  );
}

/** `document`, `putBatch`, or `putBatch:N` (putBatch with N requests in flight per shard instead of 8). */
type Arm = string;
const ARMS: readonly Arm[] = (process.env.PSS_BENCH_ARMS ?? 'document,putBatch')
  .split(',')
  .filter((a) => /^(document|putBatch(:\d+)?)$/.test(a));

export default async function pssBench(): Promise<BenchFigures> {
  const home = process.env.PSS_BENCH_HOME ?? (await mkdtemp(join(tmpdir(), 'pss-bench-')));
  const engines = await startLocalEngines({ home });
  const store = new UserStateStore();
  const stores = new Map(
    ARMS.map((arm) => [arm, new UserStateStore(store.tableName, { writeConcurrency: Number(arm.split(':')[1] ?? 8) })]),
  );
  const totals = new Map(ARMS.map((a) => [a, { items: 0, wall: 0, main: 0, engine: 0, all: 0 }]));
  try {
    // Warm-up (the engines' first requests, the SDK's first send): also makes dynalite's thread the busiest.
    await Promise.all(
      ARMS.map((arm, k) =>
        arm === 'document' ? documentPutBatch(store.tableName, shard(0, 800, k), END, 'w') : store.putBatch(shard(800, 1600, k), END, 'w'),
      ),
    );
    const engine = engineTid();
    let next = 1600;
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so neither arm always runs on the larger table.
      for (const arm of round % 2 === 0 ? ARMS : [...ARMS].reverse()) {
        const [from, to] = [next, next + USERS];
        next = to;
        const c0 = cpu(engine);
        const t0 = performance.now();
        const written = await Promise.all(
          Array.from({ length: SHARDS }, (_, k) =>
            arm === 'document'
              ? documentPutBatch(store.tableName, shard(from, to, k), END, 'bench')
              : (stores.get(arm) ?? store).putBatch(shard(from, to, k), END, 'bench'),
          ),
        );
        const wall = (performance.now() - t0) / 1000;
        const c1 = cpu(engine);
        const t = totals.get(arm) ?? { items: 0, wall: 0, main: 0, engine: 0, all: 0 };
        t.items += written.reduce((a, b) => a + b, 0);
        t.wall += wall;
        t.main += c1.main - c0.main;
        t.engine += c1.engine - c0.engine;
        t.all += c1.all - c0.all;
        process.stderr.write(
          `pss bench: round ${round} ${arm}: ${USERS} items in ${wall.toFixed(1)} s (${Math.round(USERS / wall)}/s), main ${(c1.main - c0.main).toFixed(1)} CPU-s, engines ${(c1.engine - c0.engine).toFixed(1)} CPU-s, process ${(c1.all - c0.all).toFixed(1)} CPU-s\n`,
        );
      }
    }
    // Where the rest of the process's CPU went: every thread by name (LevelDB's compaction, libuv's pool, GC).
    const byName = new Map<string, number>();
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name =
        tid === String(process.pid) ? 'main' : tid === engine ? 'engines' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const used = threadCpu(tid);
      if (used >= 0.1) byName.set(`${name}/${tid}`, used);
    }
    process.stderr.write(`pss bench: CPU-s by thread since start: ${[...byName].map(([n, s]) => `${n} ${s.toFixed(1)}`).join(', ')}\n`);
  } finally {
    await engines.stop();
    if (process.env.PSS_BENCH_HOME === undefined) await rm(home, { recursive: true, force: true });
  }
  const figures: BenchFigures = { users: USERS, rounds: ROUNDS, shards: SHARDS, historyPerUser: HISTORY };
  for (const arm of ARMS) {
    const t = totals.get(arm) ?? { items: 0, wall: 0, main: 0, engine: 0, all: 0 };
    const name = arm.replace(':', 'InFlight');
    figures[`${name}ItemsPerS`] = Math.round(t.items / t.wall);
    figures[`${name}MainCpuSPer1k`] = (1000 * t.main) / t.items;
    figures[`${name}EnginesCpuSPer1k`] = (1000 * t.engine) / t.items;
    figures[`${name}ProcessCpuSPer1k`] = (1000 * t.all) / t.items;
  }
  figures.rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  return figures;
}
