/** Starts the real local engines in a fresh temporary home for one test file. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';

export async function startTestEngines(): Promise<LocalEngines & { cleanup(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'shelves-test-'));
  const engines = await startLocalEngines({ home });
  return {
    ...engines,
    async cleanup() {
      await engines.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}
