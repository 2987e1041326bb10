/** Distributed Map states on the local runner: read through s3rver, run as child executions, written back in AWS's layout. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getObjectBytes, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { ConfigError } from '../../lib/core/errors.ts';
import { SUPPORTED_MAP_FIELDS, SUPPORTED_SUBFIELDS, isDistributedMap, unsupportedMapFields } from '../../lib/local/distributed-map.ts';
import { pipelineTemplate } from '../../lib/local/pipeline.ts';
import { definitionFromTemplate, runPipelineLocally, type LocalExecutionEvent } from '../../lib/local/state-machine.ts';
import { MapRunManifestSchema, MapRunResultEntrySchema, STATES } from '../../lib/wiring/pipeline.ts';
import { FUNCTIONS } from '../../lib/wiring/resources.ts';
import { startTestEngines } from '../aws/local-engines.ts';
import { mapItemStats } from './fixtures/map-item-handler.ts';

const BUCKET = 'home-shelves-artifacts';
const ITEM_FN = FUNCTIONS.buildPartitionFeatures.id;
const ITEM_ARN = `arn:aws:lambda:us-east-1:000000000000:function:${ITEM_FN}`;
const handlerEntries = { [ITEM_FN]: 'test/local/fixtures/map-item-handler.ts' };

type State = Record<string, unknown>;

/** A one-state machine: a Distributed Map over a JSON list in the local artifacts bucket, Lambda per item. */
function mapMachine(map: State, processor: State = { StartAt: 'Item', States: { Item: { Type: 'Task', Resource: ITEM_ARN, End: true } } }) {
  return {
    StartAt: 'Fan',
    States: {
      Fan: {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: BUCKET, 'Key.$': '$.listKey' },
        },
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, ...processor },
        End: true,
        ...map,
      },
    },
  };
}

const readJson = async (key: string): Promise<unknown> =>
  JSON.parse(Buffer.from(await getObjectBytes(`s3://${BUCKET}/${key}`)).toString('utf8'));

describe('the local translation of Distributed Map fields', () => {
  // Synthesizing the stack takes seconds, more on a busy machine.
  it('covers every field the synthesized pipeline uses in its Distributed Map states', { timeout: 240_000 }, () => {
    const definition = definitionFromTemplate(pipelineTemplate());
    const maps: [string, State][] = [];
    const visit = (machine: unknown): void => {
      for (const [name, state] of Object.entries((machine as { States?: Record<string, State> }).States ?? {})) {
        if (isDistributedMap(state)) maps.push([name, state]);
        for (const branch of (state.Branches as unknown[] | undefined) ?? []) visit(branch);
        if (state.ItemProcessor !== undefined) visit(state.ItemProcessor);
      }
    };
    visit(definition);
    expect(maps.map(([name]) => name)).toContain(STATES.buildFeatures);
    for (const [name, state] of maps) {
      // Enumerated here rather than through unsupportedMapFields, so a gap in that function shows too.
      const fields = Object.keys(state);
      expect({ name, missing: fields.filter((f) => !SUPPORTED_MAP_FIELDS.has(f)) }).toEqual({ name, missing: [] });
      for (const [path, allowed] of Object.entries(SUPPORTED_SUBFIELDS)) {
        const value = path.split('.').reduce<unknown>((o, k) => (o as State | undefined)?.[k], state) as State | undefined;
        const missing = Object.keys(value ?? {}).filter((k) => !allowed.has(k));
        expect({ name, path, missing }).toEqual({ name, path, missing: [] });
      }
      const nested = Object.entries(state).filter(([, v]) => v !== null && typeof v === 'object' && !Array.isArray(v));
      for (const [field] of nested)
        if (!['ItemProcessor', 'ItemSelector', 'ResultSelector'].includes(field)) expect(Object.keys(SUPPORTED_SUBFIELDS)).toContain(field);
      expect(unsupportedMapFields(state)).toEqual([]);
    }
  });

  it.each([
    ['MaxConcurrencyPath', { MaxConcurrencyPath: '$.n' }, 'MaxConcurrencyPath'],
    [
      'an S3 inventory manifest',
      { ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'MANIFEST' } } },
      'InputType=MANIFEST',
    ],
    ['an S3 listing', { ItemReader: { Resource: 'arn:aws:states:::s3:listObjectsV2', Parameters: { Bucket: BUCKET } } }, 'listObjectsV2'],
    [
      'ItemReader.ReaderConfig.MaxItemsPath',
      { ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON', MaxItemsPath: '$.n' } } },
      'MaxItemsPath',
    ],
  ])('refuses a Map with %s before running anything', async (_what, fields, named) => {
    const definition = mapMachine(fields);
    expect(unsupportedMapFields(definition.States.Fan).join()).toContain(named);
    await expect(runPipelineLocally({ definition, input: {}, executionName: 'refused' })).rejects.toThrow(ConfigError);
  });
});

describe('a Distributed Map run locally', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  beforeAll(async () => {
    engines = await startTestEngines();
  });
  afterAll(async () => engines.cleanup());
  beforeEach(() => {
    Object.assign(mapItemStats(), { running: 0, maxRunning: 0, calls: 0 });
  });

  it('reads the items from S3, selects each with $$.Map.Item, and writes manifest.json and SUCCEEDED_0.json as AWS lays them out', async () => {
    const items = Array.from({ length: 12 }, (_, i) => ({ dt: `2026-10-${String(i + 1).padStart(2, '0')}` }));
    await putObjectBytes(`s3://${BUCKET}/plan/items.json`, JSON.stringify(items));
    const events: LocalExecutionEvent[] = [];
    const result = await runPipelineLocally({
      definition: mapMachine({
        ItemSelector: { 'run.$': '$.run', 'partition.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
        MaxConcurrency: 3,
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: BUCKET, 'Prefix.$': '$.resultsPrefix' } },
        ResultSelector: { 'Bucket.$': '$.ResultWriterDetails.Bucket', 'Key.$': '$.ResultWriterDetails.Key' },
        ResultPath: '$.partitions',
      }),
      input: { listKey: 'plan/items.json', resultsPrefix: 'runs/r1/build-features', run: { runId: 'r1' } },
      executionName: 'fan-out',
      handlerEntries,
      mapConcurrency: 10, // above MaxConcurrency: the definition's bound applies
      onEvent: (e) => events.push(e),
    });
    expect(result.status).toBe('SUCCEEDED');
    const details = (result.output as { partitions: { Bucket: string; Key: string } }).partitions;
    expect(details.Bucket).toBe(BUCKET);
    expect(details.Key).toMatch(/^runs\/r1\/build-features\/[0-9a-f-]{36}\/manifest\.json$/);
    const manifest = MapRunManifestSchema.parse(await readJson(details.Key));
    expect(manifest.DestinationBucket).toBe(BUCKET);
    expect(manifest.MapRunArn).toMatch(/:mapRun:/);
    expect(manifest.ResultFiles.FAILED).toEqual([]);
    expect(manifest.ResultFiles.SUCCEEDED).toEqual([
      { Key: details.Key.replace('manifest.json', 'SUCCEEDED_0.json'), Size: expect.any(Number) },
    ]);
    const entries = MapRunResultEntrySchema.array().parse(await readJson(manifest.ResultFiles.SUCCEEDED[0]?.Key as string));
    expect(entries.map((e) => e.Status)).toEqual(items.map(() => 'SUCCEEDED'));
    expect(entries.map((e) => JSON.parse(e.Output as string))).toEqual(
      items.map((partition, index) => ({ echo: { run: { runId: 'r1' }, partition, index } })),
    );
    expect(mapItemStats()).toMatchObject({ calls: 12, maxRunning: 3 });
    // The Map is reported as a Map; its children's states carry their item index.
    expect(events.find((e) => e.state === 'Fan' && e.type === 'StateEntered')?.stateType).toBe('Map');
    expect(events.filter((e) => e.type === 'MapIterationSucceeded' && e.state === 'Fan')).toHaveLength(items.length);
    expect(new Set(events.filter((e) => e.state === 'Item' && e.type === 'StateExited').map((e) => e.index))).toEqual(
      new Set(items.map((_, i) => i)),
    );
  });

  it('tolerates as many failed items as ToleratedFailureCount allows and lists them in FAILED_0.json', async () => {
    await putObjectBytes(`s3://${BUCKET}/plan/flaky.json`, JSON.stringify([{ n: 1 }, { n: 2, fail: true }, { n: 3 }]));
    const definition = mapMachine({
      ToleratedFailureCount: 1,
      ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: BUCKET, Prefix: 'tolerant' } },
    });
    const result = await runPipelineLocally({
      definition,
      input: { listKey: 'plan/flaky.json' },
      executionName: 'tolerant',
      handlerEntries,
    });
    expect(result.status).toBe('SUCCEEDED');
    const key = (result.output as { ResultWriterDetails: { Key: string } }).ResultWriterDetails.Key;
    const manifest = MapRunManifestSchema.parse(await readJson(key));
    const failed = MapRunResultEntrySchema.array().parse(await readJson(manifest.ResultFiles.FAILED[0]?.Key as string));
    expect(failed.map((e) => [e.Status, e.Error, JSON.parse(e.Input)])).toEqual([['FAILED', 'DataQualityError', { n: 2, fail: true }]]);
    expect(MapRunResultEntrySchema.array().parse(await readJson(manifest.ResultFiles.SUCCEEDED[0]?.Key as string))).toHaveLength(2);
  });

  it.each([
    ['no tolerance', {}, 1],
    ['a count below the failures', { ToleratedFailureCount: 1 }, 2],
    ['a percentage below the failures', { ToleratedFailurePercentage: 40 }, 2],
  ])('fails with States.ExceedToleratedFailureThreshold with %s', async (_what, tolerance, failures) => {
    const items = [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }].map((item, i) => (i < failures ? { ...item, fail: true } : item));
    await putObjectBytes(`s3://${BUCKET}/plan/failing.json`, JSON.stringify(items));
    const result = await runPipelineLocally({
      definition: mapMachine({ ...tolerance, MaxConcurrency: 1 }),
      input: { listKey: 'plan/failing.json' },
      executionName: 'intolerant',
      handlerEntries,
    });
    expect(result.status).toBe('FAILED');
    expect(result.error?.Error).toBe('States.ExceedToleratedFailureThreshold');
    expect(result.error?.Cause).toContain(`${failures} of 4 items failed`);
  });

  it("runs no more children at once than the local cap (mapConcurrency), below the definition's MaxConcurrency", async () => {
    await putObjectBytes(`s3://${BUCKET}/plan/nine.json`, JSON.stringify(Array.from({ length: 9 }, (_, n) => ({ n }))));
    const result = await runPipelineLocally({
      definition: mapMachine({ MaxConcurrency: 5 }),
      input: { listKey: 'plan/nine.json' },
      executionName: 'capped',
      handlerEntries,
      mapConcurrency: 2,
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(mapItemStats()).toMatchObject({ calls: 9, maxRunning: 2 });
  });

  it('batches items per ItemBatcher with the BatchInput, and returns the outputs in order without a ResultWriter', async () => {
    await putObjectBytes(`s3://${BUCKET}/plan/seven.json`, JSON.stringify([1, 2, 3, 4, 5, 6, 7].map((n) => ({ n }))));
    const result = await runPipelineLocally({
      definition: mapMachine({ ItemBatcher: { MaxItemsPerBatch: 3, BatchInput: { 'runId.$': '$.runId' } } }),
      input: { listKey: 'plan/seven.json', runId: 'r7' },
      executionName: 'batched',
      handlerEntries,
    });
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { echo: { Items: { n: number }[]; BatchInput: unknown } }[]).map((o) => o.echo)).toEqual([
      { Items: [{ n: 1 }, { n: 2 }, { n: 3 }], BatchInput: { runId: 'r7' } },
      { Items: [{ n: 4 }, { n: 5 }, { n: 6 }], BatchInput: { runId: 'r7' } },
      { Items: [{ n: 7 }], BatchInput: { runId: 'r7' } },
    ]);
  });

  it('reads CSV with its first row as headers, up to ReaderConfig.MaxItems', async () => {
    await putObjectBytes(
      `s3://${BUCKET}/plan/items.csv`,
      'dt,uri\n2026-10-01,s3://raw/a/\n2026-10-02,s3://raw/b/\n2026-10-03,s3://raw/c/\n',
    );
    const result = await runPipelineLocally({
      definition: mapMachine(
        {
          ItemReader: {
            Resource: 'arn:aws:states:::s3:getObject',
            ReaderConfig: { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW', MaxItems: 2 },
            Parameters: { Bucket: BUCKET, Key: 'plan/items.csv' },
          },
        },
        { StartAt: 'Echo', States: { Echo: { Type: 'Pass', End: true } } },
      ),
      input: {},
      executionName: 'csv',
    });
    expect(result.output).toEqual([
      { dt: '2026-10-01', uri: 's3://raw/a/' },
      { dt: '2026-10-02', uri: 's3://raw/b/' },
    ]);
  });
});
