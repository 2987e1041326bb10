/**
 * The root cause of a failed run. Most steps fail with their own error; BuildFeatures, a Distributed
 * Map, fails with States.ExceedToleratedFailureThreshold, which names no partition. Its ResultWriter
 * has written the failed children's errors to S3 (FAILED_n.json): the first of them becomes the run's
 * error, so a corrupt partition still fails the run as a DataQualityError naming its file.
 */
import { formatS3Uri, getObjectBytes, listKeys, parseS3Uri } from '../aws/s3-uri.ts';
import { MapRunManifestSchema, MapRunResultEntrySchema, messageFromCause, type RunContext, type StepError } from '../wiring/pipeline.ts';

const MAP_THRESHOLD = 'States.ExceedToleratedFailureThreshold';

/** The error the run fails with: the step's own, or for a failed Map Run its first failed child's. */
export async function failureRootCause(
  error: { readonly Error: string; readonly Cause?: string },
  run: Pick<RunContext, 'artifactsPrefix'> | undefined,
  plan: { readonly resultsPrefix: string } | undefined,
): Promise<StepError> {
  const own = { Error: error.Error, Cause: messageFromCause(error.Cause ?? '') };
  if (error.Error !== MAP_THRESHOLD || run === undefined || plan === undefined) return own;
  try {
    const { bucket } = parseS3Uri(run.artifactsPrefix);
    const readJson = async (key: string): Promise<unknown> =>
      JSON.parse(Buffer.from(await getObjectBytes(formatS3Uri(bucket, key))).toString('utf8'));
    const manifests = (await listKeys(formatS3Uri(bucket, `${plan.resultsPrefix.replace(/\/$/, '')}/`))).filter((k) =>
      k.endsWith('/manifest.json'),
    );
    const failures = [];
    for (const key of manifests) {
      const manifest = MapRunManifestSchema.parse(await readJson(key));
      for (const file of manifest.ResultFiles.FAILED) failures.push(...MapRunResultEntrySchema.array().parse(await readJson(file.Key)));
    }
    const first = failures.find((f) => f.Error !== undefined);
    if (first === undefined) return own;
    const partition = (JSON.parse(first.Input) as { partition?: { dt?: string } }).partition?.dt;
    return {
      Error: first.Error as string,
      Cause: `${messageFromCause(first.Cause ?? '')}${partition ? ` (partition dt=${partition})` : ''}; ${failures.length} partition(s) failed: ${own.Cause}`,
    };
  } catch {
    return own; // the results could not be read: the map's own error still says what happened
  }
}
