/** One pass of the canary monitor with the environment's tables, bucket and rollout steps, as text for the CLI. */
import { EndpointStore } from '../aws/endpoints.ts';
import { ModelRegistry } from '../aws/registry.ts';
import { readEnv } from '../wiring/env.ts';
import { checkRolloutPolicy, DEFAULT_ROLLOUT_POLICY } from '../core/gate/rollout.ts';
import { type MonitorDeps, monitorCanaries } from './canary-monitor.ts';

/** The monitor's dependencies from the environment: tables, raw bucket and, when ROLLOUT_STEPS is set, the staged rollout. */
export function monitorDepsFromEnv(): MonitorDeps {
  const steps = readEnv('ROLLOUT_STEPS');
  return {
    registry: new ModelRegistry(),
    endpoints: new EndpointStore(),
    rawBucket: readEnv('RAW_BUCKET'),
    now: () => new Date(),
    ...(steps ? { rollout: checkRolloutPolicy({ ...DEFAULT_ROLLOUT_POLICY, steps }) } : {}),
  };
}

export async function runMonitorOnce(): Promise<string> {
  const outcomes = await monitorCanaries(monitorDepsFromEnv());
  return `${outcomes.map((o) => `monitor: ${o.shelf.padEnd(10)} ${o.action.padEnd(9)} ${o.action === 'none' ? '' : o.reason}`).join('\n')}\n`;
}
