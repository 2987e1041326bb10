/** The OpenAPI 3.1 document of the public API, generated from the zod schemas so it cannot drift. */
import { z } from 'zod';
import { ErrorSchema, EventsBodySchema, HomeBodySchema, HomeResponseSchema } from './schemas.ts';

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } });

export function openApiDocument(): Record<string, unknown> {
  const bad = { description: 'invalid input: the body names each wrong field', content: json(ErrorSchema) };
  return {
    openapi: '3.1.0',
    info: { title: 'home-shelves', version: '1.0.0', description: 'The home screen shelves: Shortcuts, Podcasts, Playlists.' },
    paths: {
      '/v1/home': {
        get: {
          summary: 'Shelves for a known user',
          parameters: [{ name: 'userId', in: 'query', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'the shelves, in order', content: json(HomeResponseSchema) }, '400': bad },
        },
        post: {
          summary: 'Shelves for a user with request context (also a user never seen: onboarding picks)',
          requestBody: { required: true, content: json(HomeBodySchema) },
          responses: { '200': { description: 'the shelves, in order', content: json(HomeResponseSchema) }, '400': bad },
        },
      },
      '/v1/events': {
        post: {
          summary: 'Feedback: impressions, plays, skips (batched)',
          requestBody: { required: true, content: json(EventsBodySchema) },
          responses: { '202': { description: 'accepted', content: json(z.object({ accepted: z.number() })) }, '400': bad },
        },
      },
    },
  };
}
