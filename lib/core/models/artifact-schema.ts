/**
 * The zod schema of an artifact's manifest, for readers that take a manifest from outside (a file, S3).
 *
 * Kept apart from artifact.ts so that writing an artifact never loads zod (~0.15 s of CPU to import):
 * `shelves train` writes a model and reads none; readers import this module when they read.
 */
import { z } from 'zod';
import { ARTIFACT_FORMAT, DTYPES } from './artifact.ts';

export const SectionSchema = z.strictObject({
  name: z.string().min(1),
  dtype: z.enum(DTYPES),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
});

export const ModelManifestSchema = z.strictObject({
  format: z.literal(ARTIFACT_FORMAT),
  kind: z.string().min(1),
  hyperparameters: z.record(z.string(), z.unknown()),
  transformVersion: z.string(),
  dataSnapshot: z.string(),
  /** Epoch ms of the training cut-off (the data's "now"), not the wall clock: keeps bytes deterministic. */
  trainedAt: z.number(),
  seed: z.number().int(),
  /** Item ids in index order; row i of every per-item section belongs to itemIndex[i]. */
  itemIndex: z.array(z.string()),
  /** Any further JSON state the model needs (user index, feature vocabulary, metrics...). */
  extra: z.record(z.string(), z.unknown()),
  sections: z.array(SectionSchema),
  payloadBytes: z.number().int().nonnegative(),
});
