/** HTTP API (v2) responses of the handlers: JSON bodies, and a 400 for a body that is not JSON. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Parses a request body, or gives the 400 response that says it is not JSON. */
export function parseJsonBody(
  body: string | undefined,
): { ok: true; value: unknown } | { ok: false; response: APIGatewayProxyStructuredResultV2 } {
  try {
    return { ok: true, value: JSON.parse(body ?? '') };
  } catch {
    return {
      ok: false,
      response: json(400, { error: 'ValidationError', issues: [{ path: 'body', message: 'the body is not valid JSON' }] }),
    };
  }
}
