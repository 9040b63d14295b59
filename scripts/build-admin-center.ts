/**
 * Builds the admin center (packages/cloud/web) into packages/cloud/web/dist,
 * which the cloud serves under /admin.
 *
 *   node scripts/build-admin-center.ts            build
 *   node scripts/build-admin-center.ts --if-stale build only when the sources changed since the last build
 *
 * "Changed" is a SHA-256 over the app's sources, its Vite config and the
 * package lock, kept in dist/.source-hash; the bootstrap (README commands,
 * npm test) runs it with --if-stale, so a checkout always serves its own app.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const web = join(root, 'packages/cloud/web');
const dist = join(web, 'dist');
const stamp = join(dist, '.source-hash');

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

function sourceHash(): string {
  const hash = createHash('sha256');
  for (const path of [join(web, 'index.html'), join(web, 'vite.config.ts'), join(root, 'package-lock.json'), ...files(join(web, 'src'))]) {
    hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

const ifStale = process.argv.includes('--if-stale');
const wanted = sourceHash();
if (ifStale && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted && existsSync(join(dist, 'index.html'))) {
  process.exit(0);
}
const started = Date.now();
process.stderr.write('skybridge: building the admin center (packages/cloud/web)…\n');
const { build } = await import('vite');
try {
  await build({ root: web, configFile: join(web, 'vite.config.ts'), logLevel: 'warn' });
} catch (err) {
  process.stderr.write(`skybridge: the admin center did not build: ${(err as Error).message}\n`);
  process.exit(1);
}
writeFileSync(stamp, `${wanted}\n`);
process.stderr.write(`skybridge: admin center built in ${((Date.now() - started) / 1000).toFixed(1)} s (${relative(root, dist)})\n`);
