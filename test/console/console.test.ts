/**
 * The console in a real browser (Debian's chromium via playwright-core) against `shelves serve`'s
 * server started in-process on loopback, over a small world that went through the real pipeline:
 * every view loads without a console error (and is photographed for the README), the inspector shows
 * three shelves for a known user and a described listener, a version comparison lists what changed,
 * the repetition diagnostic flags popularity deployed as a shelf's model and not the trained model, a
 * catalog title made of HTML shows as text; its JSON API answers bad input with 400 and has no write.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicRouteKeys } from '../../lib/api/routes.ts';
import type { RepetitionResult } from '../../lib/console/api/repetition.ts';
import { startLocalApi } from '../../lib/local/local-api.ts';
import { loadTruth } from '../../lib/sim/respond.ts';
import { runTraffic } from '../../lib/sim/traffic.ts';
import { launchBrowser, type ConsoleBrowser } from './browser.ts';
import { deployForConsole, startConsoleWorld, XSS_TITLE, type ConsoleWorld } from './console-world.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'docs', 'console');
let world: ConsoleWorld;
let api: { url: string; close(): Promise<void> };
let browser: ConsoleBrowser;
const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${api.url}/console/api/${path}`);
  return { status: res.status, body: (await res.json()) as T };
};

beforeAll(async () => {
  world = await startConsoleWorld();
  await deployForConsole(world.runs);
  api = await startLocalApi();
  await runTraffic({ url: api.url, truth: await loadTruth(join(world.home, 'world')), users: 60, requests: 80, seed: 3 });
  browser = await launchBrowser();
  await mkdir(SHOTS, { recursive: true });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await world?.cleanup();
});

/** Opens a view, waits until it has rendered, fails on any console error, and photographs it. */
async function open(hash: string, shot?: string) {
  const { page, errors } = await browser.page();
  await page.goto(`${api.url}/console/#${hash}`);
  await page.waitForFunction(() => document.body.dataset.ready !== undefined && document.querySelector('.busy') === null, null, {
    timeout: 240_000,
  });
  if (shot) await page.screenshot({ path: join(SHOTS, `${shot}.png`) });
  return { page, errors };
}

describe('the console in a browser', () => {
  it('shows three shelves side by side for a known user, each with the live model and its baselines, and the history', async () => {
    const { page, errors } = await open('inspector?userId=u-0000003', 'inspector');
    expect(errors).toEqual([]);
    expect(await page.locator('section.shelf').evaluateAll((s) => s.map((e) => (e as HTMLElement).dataset.shelf))).toEqual([
      'shortcuts',
      'podcasts',
      'playlists',
    ]);
    const podcastArms = await page
      .locator('section[data-shelf=podcasts] .arm')
      .evaluateAll((a) => a.map((e) => (e as HTMLElement).dataset.arm));
    expect(podcastArms).toEqual(expect.arrayContaining(['live', 'baseline:popularity', 'baseline:random']));
    expect(await page.locator('section[data-shelf=podcasts] .arm[data-arm=live] .item').count()).toBeGreaterThan(0);
    expect(await page.locator('.side').textContent()).toMatch(/recent listening/);
    await page.close();
  }, 300_000);

  it('shows three shelves for a described new listener', async () => {
    const { page, errors } = await open('inspector?country=SE&device=tv&ageBand=18-24&picks=jazz,news');
    expect(errors).toEqual([]);
    expect(await page.locator('.side h3').first().textContent()).toBe('new listener');
    expect(await page.locator('section.shelf').count()).toBe(3);
    for (const shelf of ['podcasts', 'playlists'])
      expect(await page.locator(`section[data-shelf=${shelf}] .arm[data-arm=live] .item`).count()).toBeGreaterThan(0);
    await page.close();
  }, 300_000);

  it('lists what entered and what left between two versions of a shelf for the same user', async () => {
    const { page, errors } = await open('inspector?userId=u-0000003');
    await page.selectOption('#compare-form select[name=shelf]', 'playlists');
    await page.waitForFunction(() => document.querySelectorAll('#compare-form select[name=a] option').length > 2);
    await page.selectOption('#compare-form select[name=a]', 'version:playlists-r1');
    await page.selectOption('#compare-form select[name=b]', 'live');
    await page.click('#compare-form button');
    await page.waitForSelector('#compare-result');
    const entered = await page.locator('#compare-result [data-part=entered] li').count();
    const left = await page.locator('#compare-result [data-part=left] li').count();
    expect(entered + left).toBeGreaterThan(0);
    expect(await page.locator('#compare-result [data-part=entered] h3').textContent()).toBe(`entered (${entered})`);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.screenshot({ path: join(SHOTS, 'compare.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  it('flags popularity deployed as the Playlists model as repetitive', async () => {
    const { page, errors } = await open('repetition?shelf=playlists&population=grid&size=24', 'repetition');
    expect(errors).toEqual([]);
    expect(await page.getAttribute('#repetition-verdict', 'data-flagged')).toBe('true');
    expect(await page.locator('#repetition-verdict').textContent()).toMatch(/as repetitive as popularity/);
    await page.close();
  }, 300_000);

  it('does not flag the trained Podcasts model', async () => {
    const { status, body } = await get<RepetitionResult>('repetition?shelf=podcasts&population=users&size=24');
    expect(status).toBe(200);
    expect(body.arms[0]?.version).toBe('podcasts-r1');
    expect(body.verdict).toMatchObject({ flagged: false, reference: 'popularity' });
    const popularity = body.arms.find((a) => a.arm === 'baseline:popularity')!;
    expect(body.arms[0]!.figures.personalization).toBeGreaterThan(popularity.figures.personalization);
  }, 300_000);

  it('shows every version with its metric against the baselines, the gate in one line and the pointers', async () => {
    const { page, errors } = await open('versions?shelf=playlists', 'versions');
    expect(errors).toEqual([]);
    expect(await page.locator('#endpoint-pointers').textContent()).toMatch(/live playlists-popularity.*previous playlists-r1/);
    expect(await page.locator('[data-version]').allTextContents()).toEqual(['playlists-popularity', 'playlists-r1']);
    expect(await page.locator('svg').count()).toBeGreaterThan(0);
    await page.close();
  }, 300_000);

  it('shows each run with its steps, data quality and report', async () => {
    const { page, errors } = await open('runs?shelf=podcasts', 'runs');
    expect(errors).toEqual([]);
    expect(await page.locator('[data-run=r1] .step').allTextContents()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^BuildFeatures \d/),
        expect.stringMatching(/^Train \d/),
        expect.stringMatching(/Evaluate \d/),
      ]),
    );
    expect(await page.locator('[data-run=r1] table').textContent()).toMatch(/events\/dt=2026-09-/);
    const report = await page.locator('[data-run=r1] a', { hasText: 'report' }).getAttribute('href');
    expect((await fetch(`${api.url}/console/${report}`)).status).toBe(200);
    await page.close();
  }, 300_000);

  it('shows new content with how often it was shown', async () => {
    const { page, errors } = await open('new-content', 'new-content');
    expect(errors).toEqual([]);
    expect(await page.locator('#new-content-result tbody tr').count()).toBeGreaterThan(0);
    await page.close();
  }, 300_000);

  it('shows a catalog title made of HTML as text, never as markup', async () => {
    const { page, errors } = await open('inspector?country=US&device=mobile&ageBand=25-34');
    const titles = await page
      .locator(`section[data-shelf=podcasts] .arm[data-arm="baseline:popularity"] .item[data-item=${world.xssItemId}] .title`)
      .allTextContents();
    expect(titles).toEqual([XSS_TITLE]);
    expect(await page.locator('img').count()).toBe(0);
    expect(errors).toEqual([]); // no dialog, no failed image load
    await page.close();
  }, 300_000);
});

describe('the console API', () => {
  it.each([
    ['inspect?country=se&device=mobile', /query\.country/],
    ['inspect?userId=u-1&country=SE&device=tv', /query\.userId/],
    ['compare?shelf=podcasts&a=live&b=<script>', /query\.b/],
    ['repetition?shelf=home', /query\.shelf/],
    ['repetition?shelf=podcasts&size=100000', /query\.size/],
    ['versions?shelf=podcasts&drop=1', /query/],
    ['run-quality?shelf=podcasts&runId=../../etc', /query\.runId/],
  ])('answers 400 naming the wrong field for %s', async (path, field) => {
    const { status, body } = await get<unknown>(path);
    expect(status).toBe(400);
    expect(JSON.stringify(body)).toMatch(field);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('refuses %s: the console is read-only', async (method) => {
    const res = await fetch(`${api.url}/console/api/versions?shelf=podcasts`, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });

  it('is not on the public API route table', () => {
    expect(publicRouteKeys().filter((key) => key.includes('/console'))).toEqual([]);
  });

  it('serves every page with a policy that forbids inline script', async () => {
    const res = await fetch(`${api.url}/console/`);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
  });
});
