import { describe, expect, it } from 'vitest';
import type { ModelVersion, RunRecord } from '../../lib/aws/registry.ts';
import { summarizeGate } from '../../lib/console/api/gate-summary.ts';
import { compactStatus, type ShelfStatus } from '../../lib/console/status-lines.ts';

const version = (id: string, status: ModelVersion['status'], pass: boolean, reasons: string[], at: string): ModelVersion => ({
  shelf: 'podcasts',
  versionId: id,
  runId: id.replace('podcasts-', ''),
  kind: 'hybrid-warp',
  status,
  artifactUri: `s3://a/runs/podcasts/${id}/model.tar.gz`,
  reportUri: `s3://a/runs/podcasts/${id}/report/report.html`,
  metrics: { 'ndcg@10': 0.2055 },
  decision: { pass, reasons },
  dataSnapshot: 'x',
  transformVersion: 't',
  createdAt: at,
});
const run = (id: string, status: RunRecord['status'], reason: string): RunRecord => ({
  shelf: 'podcasts',
  runId: id,
  status,
  attempt: 1,
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:00:42.000Z',
  reason,
});
const REJECTION = [
  'ndcg@10 0.2055 is -27.5% over the best baseline recent-popularity (0.2835); at least 5.0% is required',
  'ndcg@10 0.2055 does not beat baseline popularity-segment (0.2468)',
  'no live model yet: the comparison with live is skipped',
  'slice activity=high (115 users): ndcg@10 0.1937 trails the best baseline recent-popularity (0.3143) by more than 15.0%',
];
const STATUS: ShelfStatus = {
  shelf: 'podcasts',
  endpoint: {
    shelf: 'podcasts',
    liveVersion: 'podcasts-r1',
    canaryVersion: null,
    canaryWeight: 0,
    previousVersion: null,
    revision: 1,
    updatedAt: '2026-12-01T10:00:42.000Z',
  },
  versions: [
    version('podcasts-r2', 'rejected', false, REJECTION, '2026-12-01T11:00:00.000Z'),
    version(
      'podcasts-r1',
      'live',
      true,
      ['PASS: every rule of the gate holds', 'no live model yet: the comparison with live is skipped'],
      '2026-12-01T10:00:00.000Z',
    ),
  ],
  runs: [
    run('r1', 'deployed', 'version podcasts-r1 deployed as live'),
    run('r2', 'rejected', `rejected by the gate: ${REJECTION.join('; ')}`),
  ],
};

describe('summarizeGate', () => {
  it('gives the first failing rule and counts the other failures, skipping the notes', () => {
    const s = summarizeGate({ pass: false, reasons: REJECTION });
    expect(s.headline).toBe(REJECTION[0]);
    expect(s.more).toBe(2);
    expect(s.failures).not.toContain(REJECTION[2]);
  });

  it('gives PASS for a passing decision', () => {
    expect(summarizeGate({ pass: true, reasons: ['PASS: every rule of the gate holds'] })).toMatchObject({
      pass: true,
      headline: 'PASS',
      more: 0,
    });
  });
});

describe('compactStatus', () => {
  const lines = compactStatus([STATUS], 120).trimEnd().split('\n');

  it('prints one line for the shelf, one per version and one per run, oldest first', () => {
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^podcasts +live podcasts-r1 · canary – · previous – · rev 1$/);
    expect(lines[1]).toMatch(/^ {2}version podcasts-r1 .* live .* ndcg@10 0\.2055 {2}PASS$/);
    expect(lines[2]).toMatch(/^ {2}version podcasts-r2 .* rejected .* FAIL ndcg@10 0\.2055 is -27\.5% ov/);
    expect(lines[3]).toMatch(/^ {2}run {5}r1 {2}deployed .* 42 s {2}version podcasts-r1 deployed as live$/);
  });

  it('cuts every line to the width, the rejection included', () => {
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    expect(lines[4]?.endsWith('…')).toBe(true);
    expect(compactStatus([STATUS], 400)).toMatch(/\(\+2 more\)/);
  });
});
