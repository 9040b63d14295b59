/**
 * Builds the agent package: `skybridge connect …` bundled with its
 * dependencies into one JavaScript file (esbuild), with a launcher, the
 * systemd unit and the docs an administrator needs, as
 * dist/agent/skybridge-connect-<version>.tar.gz and its SHA-256. It runs
 * on Node.js 24 without the source tree; the cloud serves it for download
 * (skybridge cloud start --agent-package FILE).
 *
 *   node scripts/build-agent-package.ts [--out DIR]
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { currentAgentVersion } from '../packages/protocol/src/index.ts';

const root = new URL('..', import.meta.url).pathname;

export interface AgentPackage {
  path: string;
  version: string;
  sha256: string;
  size: number;
}

export async function buildAgentPackage(outDir = join(root, 'dist', 'agent')): Promise<AgentPackage> {
  const name = `skybridge-connect-${currentAgentVersion}`;
  const stage = join(outDir, name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'lib'), { recursive: true });
  await build({
    entryPoints: [join(root, 'packages', 'cli', 'src', 'agent-main.ts')],
    outfile: join(stage, 'lib', 'skybridge.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // CommonJS dependencies bundled into an ES module still call require for Node's own modules
    banner: { js: "import { createRequire as __skybridgeRequire } from 'node:module'; const require = __skybridgeRequire(import.meta.url);" },
    legalComments: 'linked',
    logLevel: 'warning',
  });
  writeFileSync(join(stage, 'skybridge'), `#!/bin/sh
# Skybridge Connect ${currentAgentVersion}: runs the bundled agent on Node.js 24 or newer.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
node=\${SKYBRIDGE_NODE:-node}
major=$("$node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 24 ]; then
  echo "skybridge: Node.js 24 or newer is needed (found $("$node" --version 2>/dev/null || echo none)); install it, or set SKYBRIDGE_NODE" >&2
  exit 1
fi
exec "$node" $(cat "$here/agent-node-flags") "$here/lib/skybridge.mjs" "$@"
`);
  chmodSync(join(stage, 'skybridge'), 0o755);
  copyFileSync(join(root, 'scripts', 'agent-node-flags'), join(stage, 'agent-node-flags'));
  copyFileSync(join(root, 'packaging', 'systemd', 'skybridge-connect.service'), join(stage, 'skybridge-connect.service'));
  mkdirSync(join(stage, 'docs'));
  for (const doc of ['connect-config.md', 'connect-service.md', 'password-hash-sync.md', 'sync-rules.md']) copyFileSync(join(root, 'docs', doc), join(stage, 'docs', doc));
  writeFileSync(join(stage, 'VERSION'), `${currentAgentVersion}\n`);
  const tarball = join(outDir, `${name}.tar.gz`);
  execFileSync('tar', ['-czf', tarball, '--owner=0', '--group=0', '--sort=name', '-C', outDir, name]);
  rmSync(stage, { recursive: true, force: true });
  const bytes = readFileSync(tarball);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(`${tarball}.sha256`, `${sha256}  ${name}.tar.gz\n`);
  return { path: tarball, version: currentAgentVersion, sha256, size: bytes.length };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const p = await buildAgentPackage(values.out);
  process.stdout.write(`${p.path}\n  version ${p.version}, ${(p.size / 1024 / 1024).toFixed(1)} MiB, sha256 ${p.sha256}\n`);
}
