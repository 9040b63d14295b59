import { currentSession } from '../auth/session.ts';

/** An admin API error (RFC 9457 problem+json), with the stable code and the detail that says what to do. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, detail: string) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

/** The session expired or was never there: the app sends the admin to sign in. */
export class SignedOut extends Error {}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const q = params.toString();
  return q ? `${path}${path.includes('?') ? '&' : '?'}${q}` : path;
}

async function request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const session = currentSession();
  if (!session) throw new SignedOut('your session has ended');
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {}),
  });
  if (res.status === 401) throw new SignedOut('your session has ended');
  if (!res.ok) {
    const problem = (await res.json().catch(() => null)) as { code?: string; detail?: string; title?: string } | null;
    throw new ApiError(res.status, problem?.code ?? `http_${res.status}`, problem?.detail ?? problem?.title ?? `The cloud answered HTTP ${res.status}. Reload the page; if it persists, check the cloud's log.`);
  }
  return res;
}

/** The admin API (`/api/v1`), as the signed-in admin. */
export const api = {
  async get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return (await request('GET', withQuery(`/api/v1${path}`, query), undefined, signal)).json() as Promise<T>;
  },
  async send<T = unknown>(method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await request(method, `/api/v1${path}`, body);
    if (res.status === 204) return undefined as T;
    return res.json() as Promise<T>;
  },
  /** A file from the API (the agent package): fetched with the token, handed to the browser as a download. */
  async download(path: string, fallbackName: string): Promise<{ name: string; size: number; checksum: string | null }> {
    const res = await request('GET', `/api/v1${path}`);
    const blob = await res.blob();
    const name = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return { name, size: blob.size, checksum: res.headers.get('x-checksum-sha256') };
  },
};
