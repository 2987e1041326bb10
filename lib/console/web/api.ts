/// <reference lib="dom" />
/** The console's JSON API from the page: GET only, relative to /console/. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** GETs api/<path> with the query; an error status becomes an ApiError with the body's message and issues. */
export async function getJson<T>(path: string, query: Readonly<Record<string, string | number | undefined>> = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  const res = await fetch(`api/${path}${qs ? `?${qs}` : ''}`, { headers: { accept: 'application/json' } });
  const body = (await res.json().catch(() => ({}))) as { message?: string; issues?: { path: string; message: string }[] };
  if (!res.ok) {
    const issues = body.issues?.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new ApiError(res.status, issues || body.message || `HTTP ${res.status}`);
  }
  return body as T;
}
