/**
 * The console API's inputs (query strings; every route is a GET: the console only reads). A described
 * listener reuses the public API's context schema, so the inspector accepts exactly what /v1/home does.
 */
import { z } from 'zod';
import { HomeContextSchema } from '../../api/schemas.ts';
import { ShelfSchema } from '../../core/contract.ts';

const UserId = z.string().min(1).max(256);
const Arm = z
  .string()
  .regex(
    /^(live|canary|baseline:[a-z0-9-]{1,40}|version:[A-Za-z0-9._-]{1,120})$/,
    'expected live, canary, baseline:<name> or version:<versionId>',
  );
const RunId = z.string().regex(/^[A-Za-z0-9-]{1,40}$/, 'runId: 1-40 letters, digits or dashes');

/** A known user (userId) or a described listener (country and device at least), never both. */
const Listener = {
  userId: UserId.optional(),
  country: z.string().optional(),
  device: z.string().optional(),
  ageBand: z.string().optional(),
  /** Onboarding picks, comma-separated. */
  picks: z.string().max(600).optional(),
  localTime: z.string().optional(),
};

export const InspectQuerySchema = z.strictObject(Listener);
export const CompareQuerySchema = z.strictObject({ ...Listener, shelf: ShelfSchema, a: Arm, b: Arm });
export const ShelfQuerySchema = z.strictObject({ shelf: ShelfSchema });
export const RepetitionQuerySchema = z.strictObject({
  shelf: ShelfSchema,
  population: z.enum(['grid', 'users']).default('grid'),
  size: z.coerce.number().int().min(2).max(300).default(48),
});
export const RunQuerySchema = z.strictObject({ shelf: ShelfSchema, runId: RunId });
export const NewContentQuerySchema = z.strictObject({ days: z.coerce.number().int().min(1).max(90).default(14) });
export const UsersQuerySchema = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(40) });
export const EmptyQuerySchema = z.strictObject({});

/** The listener of a query: `{ userId }`, or `{ context }` parsed by the public API's HomeContextSchema. */
export const ListenerSchema = z.object(Listener).transform((q, check) => {
  if (q.userId !== undefined) {
    if (q.country !== undefined || q.device !== undefined || q.picks !== undefined)
      check.addIssue({
        code: 'custom',
        path: ['userId'],
        message: 'give either userId or a described listener (country, device...), not both',
      });
    return { userId: q.userId };
  }
  const context = HomeContextSchema.safeParse({
    country: q.country,
    device: q.device,
    ...(q.ageBand ? { ageBand: q.ageBand } : {}),
    ...(q.localTime ? { localTime: q.localTime } : {}),
    ...(q.picks !== undefined
      ? {
          onboardingGenres: q.picks
            .split(',')
            .map((p) => p.trim())
            .filter((p) => p !== ''),
        }
      : {}),
  });
  if (!context.success) {
    for (const issue of context.error.issues)
      check.addIssue({
        code: 'custom',
        path: [issue.path[0] === 'onboardingGenres' ? 'picks' : String(issue.path[0] ?? '')],
        message: issue.message,
      });
    return z.NEVER;
  }
  return { context: context.data };
});
