/**
 * Where CLI commands find the registry, endpoints and buckets. Default: the embedded local runtime
 * (dynalite + s3rver under .shelves/). With `SHELVES_TARGET=aws` the commands use the AWS account of
 * the environment, with table and bucket names from the usual variables (the stack's outputs).
 */
import { readEnv } from '../wiring/env.ts';
import { shelvesHome } from './_home.ts';
import type { LocalEngines } from '../local/engines.ts';

export async function withRuntime<T>(run: (engines: LocalEngines | null) => Promise<T>): Promise<T> {
  if (readEnv('SHELVES_TARGET') === 'aws') return run(null);
  // Handlers log JSON for CloudWatch; on a terminal only warnings are worth the space.
  process.env.LOG_LEVEL ??= 'WARN';
  const { startLocalEngines } = await import('../local/engines.ts');
  const engines = await startLocalEngines({ home: shelvesHome() });
  try {
    return await run(engines);
  } finally {
    await engines.stop();
  }
}
