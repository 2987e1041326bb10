/**
 * Distributed Map states on the local runner. aws-local-stepfunctions runs inline Maps only, so before a
 * definition is handed to it every Distributed Map becomes a Task state (same InputPath, ResultSelector,
 * ResultPath, OutputPath, Retry, Catch and transition) whose local handler does what Step Functions
 * does for a Map Run:
 *
 *   read the ItemReader's object through the local S3 (JSON array, JSON Lines or CSV; ReaderConfig.MaxItems),
 *   apply ItemSelector to each item with `$$.Map.Item.Index` / `.Value`, group them per ItemBatcher,
 *   run the ItemProcessor as one child execution per item or batch (MaxConcurrency at a time), fail
 *   with States.ExceedToleratedFailureThreshold past ToleratedFailurePercentage / ToleratedFailureCount,
 *   and write the ResultWriter output in the layout AWS writes (`<Prefix>/<map run id>/manifest.json`,
 *   `SUCCEEDED_0.json`, `FAILED_0.json`) through the local S3, returning MapRunArn and ResultWriterDetails.
 *
 * A field this module does not implement is an error before the run starts, never silently ignored.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { formatS3Uri, getObjectBytes, putObjectBytes } from '../aws/s3-uri.ts';
import { ConfigError } from '../core/errors.ts';
import type { MapRunManifest, MapRunResultEntry } from '../wiring/pipeline.ts';
import type { Json } from './cfn-definition.ts';

/** Fields of a Distributed Map state the local translation implements. */
export const SUPPORTED_MAP_FIELDS: ReadonlySet<string> = new Set([
  'Type',
  'Comment',
  'Next',
  'End',
  'InputPath',
  'OutputPath',
  'ResultPath',
  'ResultSelector',
  'Retry',
  'Catch',
  'Label',
  'ItemsPath',
  'ItemSelector',
  'ItemReader',
  'ItemBatcher',
  'ItemProcessor',
  'ResultWriter',
  'MaxConcurrency',
  'ToleratedFailurePercentage',
  'ToleratedFailureCount',
]);
/** Sub-fields the local translation implements, by the field that holds them. */
export const SUPPORTED_SUBFIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  ItemReader: new Set(['Resource', 'Parameters', 'ReaderConfig']),
  'ItemReader.Parameters': new Set(['Bucket', 'Bucket.$', 'Key', 'Key.$']),
  'ItemReader.ReaderConfig': new Set(['InputType', 'CSVHeaderLocation', 'CSVHeaders', 'CSVDelimiter', 'MaxItems']),
  ItemBatcher: new Set(['MaxItemsPerBatch', 'MaxInputBytesPerBatch', 'BatchInput']),
  ResultWriter: new Set(['Resource', 'Parameters', 'WriterConfig']),
  'ResultWriter.Parameters': new Set(['Bucket', 'Bucket.$', 'Prefix', 'Prefix.$']),
  'ResultWriter.WriterConfig': new Set(['Transformation', 'OutputType']),
  'ItemProcessor.ProcessorConfig': new Set(['Mode', 'ExecutionType']),
};
const ITEM_READER_RESOURCE = /^arn:aws[a-z-]*:states:::s3:getObject$/;
const RESULT_WRITER_RESOURCE = /^arn:aws[a-z-]*:states:::s3:putObject$/;
const INPUT_TYPES = new Set(['JSON', 'JSONL', 'CSV']);
const CSV_DELIMITERS: Readonly<Record<string, string>> = { COMMA: ',', PIPE: '|', SEMICOLON: ';', SPACE: ' ', TAB: '\t' };
/** Without MaxConcurrency Step Functions runs up to 10,000 children; one process runs this many. */
const LOCAL_DEFAULT_CONCURRENCY = 40;

type State = Record<string, unknown>;

/** Whether a state is a Map in distributed mode. */
export function isDistributedMap(state: State): boolean {
  const config = (state.ItemProcessor as State | undefined)?.ProcessorConfig as State | undefined;
  return state.Type === 'Map' && (config?.Mode === 'DISTRIBUTED' || state.ItemReader !== undefined);
}

/** Every field path of a Distributed Map state the local translation does not implement (empty when it runs as written). */
export function unsupportedMapFields(state: State): string[] {
  const unsupported = Object.keys(state).filter((k) => !SUPPORTED_MAP_FIELDS.has(k));
  const processor = state.ItemProcessor as State | undefined;
  const objects: Record<string, unknown> = {
    ItemReader: state.ItemReader,
    'ItemReader.Parameters': (state.ItemReader as State | undefined)?.Parameters,
    'ItemReader.ReaderConfig': (state.ItemReader as State | undefined)?.ReaderConfig,
    ItemBatcher: state.ItemBatcher,
    ResultWriter: state.ResultWriter,
    'ResultWriter.Parameters': (state.ResultWriter as State | undefined)?.Parameters,
    'ResultWriter.WriterConfig': (state.ResultWriter as State | undefined)?.WriterConfig,
    'ItemProcessor.ProcessorConfig': processor?.ProcessorConfig,
  };
  for (const [path, value] of Object.entries(objects)) {
    if (value === undefined) continue;
    const allowed = SUPPORTED_SUBFIELDS[path] as ReadonlySet<string>;
    for (const key of Object.keys(value as State)) if (!allowed.has(key)) unsupported.push(`${path}.${key}`);
  }
  const reader = state.ItemReader as State | undefined;
  if (reader !== undefined) {
    if (!ITEM_READER_RESOURCE.test(String(reader.Resource))) unsupported.push(`ItemReader.Resource=${String(reader.Resource)}`);
    const inputType = String((reader.ReaderConfig as State | undefined)?.InputType);
    if (!INPUT_TYPES.has(inputType)) unsupported.push(`ItemReader.ReaderConfig.InputType=${inputType}`);
  }
  const writer = state.ResultWriter as State | undefined;
  if (writer?.Resource !== undefined && !RESULT_WRITER_RESOURCE.test(String(writer.Resource)))
    unsupported.push(`ResultWriter.Resource=${String(writer.Resource)}`);
  return unsupported;
}

/** The Task state that stands in for a Distributed Map: the Map's own input/output processing and transitions. */
export function standInTask(state: State, resource: string): State {
  const kept = ['Comment', 'Next', 'End', 'InputPath', 'OutputPath', 'ResultPath', 'ResultSelector', 'Retry', 'Catch'];
  return { Type: 'Task', Resource: resource, ...Object.fromEntries(kept.filter((k) => k in state).map((k) => [k, state[k]])) };
}

/** The ItemProcessor as a state machine of its own (what each child execution runs). */
export function childDefinition(state: State): Record<string, unknown> {
  const { ProcessorConfig: _mode, ...processor } = state.ItemProcessor as State;
  return processor;
}

/** How a child execution ended. */
export interface ChildOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: Json;
  readonly error?: { readonly Error: string; readonly Cause: string };
}

export interface MapRunContext {
  /** Most children at once whatever the definition's MaxConcurrency (a local process's limit); default no cap. */
  readonly maxConcurrency?: number;
  /** The map run's id (`<Prefix>/<id>/manifest.json`); default a random UUID, as in AWS. */
  readonly mapRunId?: string;
  /** ARN of the parent execution, for MapRunArn and child execution ARNs. */
  readonly executionArn: string;
  readonly stateMachineArn: string;
  /** The parent's context object, for templates that read `$$`. */
  readonly context: Record<string, unknown>;
  /** Evaluates a payload template (Parameters-style, `.$` keys) against an input and a context object. */
  readonly applyTemplate: (template: Json, input: Json, context: Record<string, unknown>) => Promise<Json>;
  /** Runs the ItemProcessor as one child execution. */
  readonly runChild: (input: Json, index: number, name: string) => Promise<ChildOutcome>;
}

/** The error a Map Run fails with once more children failed than it tolerates. */
export class ExceedToleratedFailureThresholdError extends Error {
  constructor(failed: number, total: number, tolerated: { percentage?: number; count?: number }) {
    super(
      `${failed} of ${total} items failed; tolerated: ${tolerated.percentage ?? 0}% and ${tolerated.count ?? 0} items (ToleratedFailurePercentage / ToleratedFailureCount)`,
    );
    this.name = 'States.ExceedToleratedFailureThreshold';
  }
}

/** The error a Map Run fails with when its ItemReader cannot be read or parsed. */
export class ItemReaderFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'States.ItemReaderFailed';
  }
}

/** Runs one Map Run of a Distributed Map state on `input` (its effective input, after InputPath). */
export async function runDistributedMap(state: State, input: Json, run: MapRunContext): Promise<Json> {
  const unsupported = unsupportedMapFields(state);
  if (unsupported.length > 0) throw new ConfigError(`the local runner does not implement these Map fields: ${unsupported.join(', ')}`);
  const mapRunId = run.mapRunId ?? randomUUID();
  const label = typeof state.Label === 'string' ? state.Label : 'Map';
  const mapRunArn = `${run.executionArn.replace(':execution:', ':mapRun:')}/${label}:${mapRunId}`;

  const items = await readItems(state, input, run);
  const selected: Json[] = [];
  for (const [index, value] of items.entries()) {
    const context = { ...run.context, Map: { Item: { Index: index, Value: value } } };
    selected.push(state.ItemSelector === undefined ? value : await run.applyTemplate(state.ItemSelector as Json, input, context));
  }
  const childInputs = await batch(state, selected, input, run);

  const tolerated = {
    ...(typeof state.ToleratedFailurePercentage === 'number' ? { percentage: state.ToleratedFailurePercentage } : {}),
    ...(typeof state.ToleratedFailureCount === 'number' ? { count: state.ToleratedFailureCount } : {}),
  };
  const exceeded = (failed: number): boolean => {
    const total = childInputs.length;
    if (tolerated.percentage === undefined && tolerated.count === undefined) return failed > 0;
    return (
      (tolerated.percentage !== undefined && (failed / total) * 100 > tolerated.percentage) ||
      (tolerated.count !== undefined && failed > tolerated.count)
    );
  };

  const entries: (MapRunResultEntry & { output?: Json })[] = [];
  let failed = 0;
  let next = 0;
  const concurrency = Math.min(
    typeof state.MaxConcurrency === 'number' && state.MaxConcurrency > 0 ? state.MaxConcurrency : LOCAL_DEFAULT_CONCURRENCY,
    run.maxConcurrency ?? Number.POSITIVE_INFINITY,
  );
  const worker = async (): Promise<void> => {
    while (next < childInputs.length && !exceeded(failed)) {
      const index = next++;
      const childInput = childInputs[index] as Json;
      const name = `${mapRunId}:${index}`;
      const start = new Date().toISOString();
      const outcome = await run.runChild(childInput, index, name);
      if (outcome.status === 'FAILED') failed += 1;
      entries[index] = {
        ExecutionArn: `${run.stateMachineArn.replace(':stateMachine:', ':execution:')}/${label}:${name}`,
        Name: name,
        Status: outcome.status,
        Input: JSON.stringify(childInput),
        InputDetails: { Included: true },
        ...(outcome.status === 'SUCCEEDED'
          ? { Output: JSON.stringify(outcome.output ?? null), OutputDetails: { Included: true }, output: outcome.output ?? null }
          : { Error: outcome.error?.Error ?? 'States.Runtime', Cause: outcome.error?.Cause ?? '' }),
        RedriveCount: 0,
        RedriveStatus: 'NOT_REDRIVABLE',
        RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
        StartDate: start,
        StateMachineArn: run.stateMachineArn,
        StopDate: new Date().toISOString(),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, childInputs.length)) }, worker));
  const done = entries.filter((e) => e !== undefined);

  const result =
    state.ResultWriter === undefined
      ? (done.map((e) => e.output ?? null) as Json)
      : await writeResults(state, input, run, mapRunArn, mapRunId, done);
  if (exceeded(failed)) throw new ExceedToleratedFailureThresholdError(failed, childInputs.length, tolerated);
  return result;
}

async function readItems(state: State, input: Json, run: MapRunContext): Promise<Json[]> {
  const reader = state.ItemReader as State | undefined;
  if (reader === undefined) {
    const path = typeof state.ItemsPath === 'string' ? state.ItemsPath : '$';
    const items = (await run.applyTemplate({ 'items.$': path }, input, run.context)) as { items?: Json };
    if (!Array.isArray(items.items)) throw new ItemReaderFailedError(`ItemsPath ${path} does not select an array`);
    return items.items;
  }
  const params = (await run.applyTemplate((reader.Parameters ?? {}) as Json, input, run.context)) as { Bucket?: string; Key?: string };
  const config = (reader.ReaderConfig ?? {}) as {
    InputType?: string;
    MaxItems?: number;
    CSVHeaderLocation?: string;
    CSVHeaders?: string[];
    CSVDelimiter?: string;
  };
  const uri = formatS3Uri(String(params.Bucket), String(params.Key));
  let text: string;
  try {
    text = Buffer.from(await getObjectBytes(uri)).toString('utf8');
  } catch (error) {
    throw new ItemReaderFailedError(`cannot read ${uri}: ${(error as Error).message}`);
  }
  let items: Json[];
  try {
    if (config.InputType === 'JSON') {
      const parsed = JSON.parse(text) as Json;
      if (!Array.isArray(parsed)) throw new Error(`expected a JSON array, got ${typeof parsed}`);
      items = parsed;
    } else if (config.InputType === 'JSONL') {
      items = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Json);
    } else {
      const given = config.CSVHeaderLocation === 'GIVEN';
      const rows = parseCsv(text, {
        delimiter: CSV_DELIMITERS[config.CSVDelimiter ?? 'COMMA'] ?? ',',
        relax_column_count: true,
      }) as string[][];
      const headers = given ? (config.CSVHeaders ?? []) : (rows.shift() ?? []);
      // CSV values are strings, as Step Functions passes them.
      items = rows.map((row) => Object.fromEntries(headers.map((h, i) => [h, row[i] ?? ''])));
    }
  } catch (error) {
    throw new ItemReaderFailedError(`cannot parse ${uri} as ${config.InputType}: ${(error as Error).message}`);
  }
  return typeof config.MaxItems === 'number' && config.MaxItems > 0 ? items.slice(0, config.MaxItems) : items;
}

/** Child inputs: one per item, or `{ Items, BatchInput }` per batch when the state has an ItemBatcher. */
async function batch(state: State, items: readonly Json[], input: Json, run: MapRunContext): Promise<Json[]> {
  const batcher = state.ItemBatcher as { MaxItemsPerBatch?: number; MaxInputBytesPerBatch?: number; BatchInput?: Json } | undefined;
  if (batcher === undefined) return [...items];
  const maxItems = batcher.MaxItemsPerBatch ?? Number.POSITIVE_INFINITY;
  const maxBytes = batcher.MaxInputBytesPerBatch ?? 256 * 1024;
  const batchInput = batcher.BatchInput === undefined ? undefined : await run.applyTemplate(batcher.BatchInput, input, run.context);
  const wrap = (batchItems: Json[]): Json => ({ Items: batchItems, ...(batchInput !== undefined ? { BatchInput: batchInput } : {}) });
  const batches: Json[] = [];
  let current: Json[] = [];
  for (const item of items) {
    const candidate = [...current, item];
    if (current.length > 0 && (candidate.length > maxItems || Buffer.byteLength(JSON.stringify(wrap(candidate))) > maxBytes)) {
      batches.push(wrap(current));
      current = [item];
    } else current = candidate;
  }
  if (current.length > 0) batches.push(wrap(current));
  return batches;
}

async function writeResults(
  state: State,
  input: Json,
  run: MapRunContext,
  mapRunArn: string,
  mapRunId: string,
  entries: readonly (MapRunResultEntry & { output?: Json })[],
): Promise<Json> {
  const writer = state.ResultWriter as { Parameters?: Json; WriterConfig?: { Transformation?: string; OutputType?: string } };
  const params = (await run.applyTemplate((writer.Parameters ?? {}) as Json, input, run.context)) as { Bucket?: string; Prefix?: string };
  const transformation = writer.WriterConfig?.Transformation ?? 'NONE';
  const jsonLines = writer.WriterConfig?.OutputType === 'JSONL';
  const shape = (e: MapRunResultEntry & { output?: Json }): Json => {
    const { output, ...entry } = e;
    // A failed child is written unchanged whatever the transformation (as AWS does).
    if (transformation === 'NONE' || e.Status !== 'SUCCEEDED') return entry as unknown as Json;
    return output ?? null;
  };
  if (params.Bucket === undefined) {
    // WriterConfig alone: the transformed results are the state's result instead of files.
    const shaped = entries.map(shape);
    return transformation === 'FLATTEN' ? shaped.flatMap((x) => (Array.isArray(x) ? x : [x])) : shaped;
  }
  const prefix = `${(params.Prefix ?? '').replace(/\/+$/, '')}${params.Prefix ? '/' : ''}${mapRunId}/`;
  const files: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', { Key: string; Size: number }[]> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  for (const status of ['SUCCEEDED', 'FAILED'] as const) {
    let rows = entries.filter((e) => (status === 'SUCCEEDED' ? e.Status === 'SUCCEEDED' : e.Status !== 'SUCCEEDED')).map(shape);
    if (rows.length === 0) continue;
    if (transformation === 'FLATTEN' && status === 'SUCCEEDED') rows = rows.flatMap((x) => (Array.isArray(x) ? x : [x]));
    const body = jsonLines ? `${rows.map((r) => JSON.stringify(r)).join('\n')}\n` : JSON.stringify(rows);
    const key = `${prefix}${status}_0.json`;
    await putObjectBytes(formatS3Uri(params.Bucket, key), body, 'application/json');
    files[status].push({ Key: key, Size: Buffer.byteLength(body) });
  }
  const manifest: MapRunManifest = { DestinationBucket: params.Bucket, MapRunArn: mapRunArn, ResultFiles: files };
  const manifestKey = `${prefix}manifest.json`;
  await putObjectBytes(formatS3Uri(params.Bucket, manifestKey), JSON.stringify(manifest), 'application/json');
  return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: params.Bucket, Key: manifestKey } };
}
