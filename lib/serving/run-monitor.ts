/** One pass of the canary monitor with the environment's tables and bucket, as text for the CLI. */
import { EndpointStore } from '../aws/endpoints.ts';
import { ModelRegistry } from '../aws/registry.ts';
import { readEnv } from '../wiring/env.ts';
import { monitorCanaries } from './canary-monitor.ts';

export async function runMonitorOnce(): Promise<string> {
  const outcomes = await monitorCanaries({
    registry: new ModelRegistry(),
    endpoints: new EndpointStore(),
    rawBucket: readEnv('RAW_BUCKET'),
    now: () => new Date(),
  });
  return `${outcomes.map((o) => `monitor: ${o.shelf.padEnd(10)} ${o.action.padEnd(9)} ${o.action === 'none' ? '' : o.reason}`).join('\n')}\n`;
}
