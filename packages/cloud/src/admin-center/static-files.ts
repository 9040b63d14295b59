import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { paths } from '@skybridge/protocol';
import { messagePage, pageHeaders } from '../signin/pages.ts';
import { decodeUriComponentOrNull } from '../http/uri.ts';

/** Where `npm run build:web` writes the admin center (packages/cloud/web/dist). */
export const defaultAdminCenterDir = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * The admin center's own policy: its scripts and styles come from this
 * origin only, it calls only this origin's APIs, and no other site frames it.
 */
const securityHeaders = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * Serves the admin center's built files under `/admin`: hashed assets with a
 * long cache, and index.html (never cached) for every page path, so that a
 * bookmarked or reloaded page opens the app at that page. Answers false for
 * paths outside `/admin`.
 */
export function serveAdminCenter(dir: string, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'https://placeholder');
  const base = paths.adminCenter;
  if (url.pathname === '/') {
    res.writeHead(302, { location: `${base}/`, 'cache-control': 'no-store' });
    res.end();
    return true;
  }
  if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...pageHeaders, allow: 'GET, HEAD' });
    res.end(messagePage('Not allowed', 'The admin center is read with GET.'));
    return true;
  }
  if (url.pathname === base) {
    res.writeHead(301, { location: `${base}/${url.search}` });
    res.end();
    return true;
  }
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    res.writeHead(503, { ...pageHeaders, 'retry-after': '30' });
    res.end(messagePage('The admin center is not built', `This cloud has no admin center files in ${dir}. Build them with "npm run build:web" in the Skybridge checkout (the skybridge command does it on first use), then reload this page.`));
    return true;
  }
  const relative = decodeUriComponentOrNull(url.pathname.slice(base.length + 1));
  if (relative === null) {
    res.writeHead(400, { ...pageHeaders });
    res.end(messagePage('Bad address', 'This address has a malformed %-escape: open the admin center from its start page.'));
    return true;
  }
  const file = normalize(join(dir, relative));
  const inside = file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
  const isFile = inside && relative !== '' && existsSync(file) && statSync(file).isFile();
  if (!isFile && relative.startsWith('assets/')) {
    res.writeHead(404, { ...pageHeaders });
    res.end(messagePage('Not found', 'This admin center file does not exist (the cloud was upgraded): reload the page.'));
    return true;
  }
  const target = isFile ? file : index;
  const immutable = isFile && relative.startsWith('assets/');
  res.writeHead(200, {
    'content-type': types[extname(target)] ?? 'application/octet-stream',
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...securityHeaders,
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  createReadStream(target).pipe(res);
  return true;
}
