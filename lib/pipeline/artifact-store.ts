/** Model artifacts in S3: a prefix holding manifest.json + model.bin, or SageMaker's model.tar.gz. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { downloadPrefix, joinS3Uri, putObjectBytes } from '../aws/s3-uri.ts';
import { DataQualityError } from '../core/errors.ts';
import { ARTIFACT_FILES, manifestJson, type ModelArtifact } from '../core/models/artifact.ts';
import { readArtifactDir } from '../io/artifact-files.ts';

/** Reads an artifact from an S3 prefix or a model.tar.gz object. */
export async function readArtifactUri(uri: string): Promise<ModelArtifact> {
  const dir = await mkdtemp(join(tmpdir(), 'shelves-artifact-'));
  try {
    const files = await downloadPrefix(uri, dir);
    const archive = files.find((f) => f.endsWith('.tar.gz'));
    // Downloaded but unreadable (bytes changed, a torn upload): the failure names the artifact, so a
    // failed run says which object is bad instead of a bare "zlib: incorrect data check".
    try {
      if (archive !== undefined) {
        const out = join(dir, 'extracted');
        await import('node:fs/promises').then((fs) => fs.mkdir(out, { recursive: true }));
        await tar.x({ file: archive, cwd: out });
        return await readArtifactDir(out);
      }
      return await readArtifactDir(dir);
    } catch (error) {
      const e = error as Error;
      throw new DataQualityError(
        `model artifact ${uri} is unreadable (${e.name}: ${e.message}); expected a gzip tar (or a prefix) holding ${ARTIFACT_FILES.manifest} and ${ARTIFACT_FILES.payload}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes an artifact under an S3 prefix. */
export async function writeArtifactUri(prefix: string, artifact: ModelArtifact): Promise<void> {
  await putObjectBytes(joinS3Uri(prefix, ARTIFACT_FILES.payload), artifact.payload);
  await putObjectBytes(joinS3Uri(prefix, ARTIFACT_FILES.manifest), manifestJson(artifact.manifest), 'application/json');
}
