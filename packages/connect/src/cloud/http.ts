import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tlsOptionsFor, type TlsTrust } from './tls-trust.ts';

/** An error answer of the cloud: its problem+json body, with the stable code. */
export class CloudApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Record<string, unknown>;
  constructor(status: number, problem: Record<string, unknown>, what: string) {
    const detail = typeof problem.detail === 'string' ? problem.detail : typeof problem.error_description === 'string' ? problem.error_description : `HTTP ${status}`;
    super(`${what}: ${detail}`);
    this.status = status;
    this.code = typeof problem.code === 'string' ? problem.code : typeof problem.error === 'string' ? problem.error : `http_${status}`;
    this.problem = problem;
  }
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | undefined;
  trust?: TlsTrust;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One HTTP(S) exchange with the cloud, with TLS trust by CA or pin and a
 * timeout. A kept-alive connection the server closed while idle fails the
 * next request with ECONNRESET before any answer: that request never reached
 * the server, so it is sent once more on a fresh connection (the race Node's
 * documentation describes for reused sockets).
 */
export async function httpExchange(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  try {
    return await exchangeOnce(url, options);
  } catch (err) {
    if ((err as { reusedSocket?: boolean }).reusedSocket && ['ECONNRESET', 'EPIPE'].includes((err as NodeJS.ErrnoException).code ?? '')) return exchangeOnce(url, options);
    throw err;
  }
}

async function exchangeOnce(url: string, options: HttpOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const tls = await tlsOptionsFor(target, options.trust ?? {});
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, { method: options.method ?? 'GET', headers: options.headers ?? {}, ...tls, timeout: options.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${target.origin}${target.pathname} timed out`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req.reusedSocket) Object.assign(err, { reusedSocket: true });
      reject(err.code === 'ECONNREFUSED' ? new Error(`cannot reach the cloud at ${target.origin}: is it running, and is the URL right?`, { cause: err }) : err);
    });
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A JSON call: sends `body` as JSON (or `json`, serialized already) and parses the answer, throwing CloudApiError on 4xx/5xx. */
export async function callJson<T>(url: string, what: string, options: Omit<HttpOptions, 'body'> & { body?: unknown; json?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) };
  // `json`: a body serialized already
  const body = options.json ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await httpExchange(url, { ...options, headers, body });
  let parsed: unknown = null;
  if (res.text) {
    try {
      parsed = JSON.parse(res.text);
    } catch {
      parsed = { detail: res.text.slice(0, 500) };
    }
  }
  if (res.status >= 400) throw new CloudApiError(res.status, (parsed ?? {}) as Record<string, unknown>, what);
  return parsed as T;
}
