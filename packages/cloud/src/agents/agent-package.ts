/**
 * The agent package this cloud hands out (skybridge cloud start
 * --agent-package FILE, built by scripts/build-agent-package.ts): read once
 * at start, served with its SHA-256 so that an administrator (or the admin
 * center) can check what was downloaded.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface AgentPackageInfo {
  fileName: string;
  version: string;
  sha256: string;
  size: number;
  bytes: Buffer;
}

export function loadAgentPackage(path: string): AgentPackageInfo {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`--agent-package ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); build it with node scripts/build-agent-package.ts`);
  }
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw new Error(`--agent-package ${path}: not a .tar.gz file`);
  const fileName = basename(path);
  return { fileName, version: /^skybridge-connect-(.+)\.tar\.gz$/.exec(fileName)?.[1] ?? 'unknown', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, bytes };
}
