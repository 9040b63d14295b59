import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SkybridgeError } from '../http/problem.ts';

export interface LockInfo {
  pid: number;
  url: string | null;
  startedAt: string;
}

/**
 * Exclusive ownership of a data directory by one process. PGlite takes no
 * lock of its own, and two processes writing one PGlite directory corrupt it,
 * so the cloud holds `cloud.lock` while it runs. A lock whose process is gone
 * (a crash) is taken over; a live one is reported with the URL to use instead.
 */
export class DataDirLock {
  readonly path: string;
  #held = false;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.path = join(dataDir, 'cloud.lock');
  }

  acquire(url: string | null): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.path, 'wx', 0o600);
        const info: LockInfo = { pid: process.pid, url, startedAt: new Date().toISOString() };
        writeSync(fd, JSON.stringify(info));
        closeSync(fd);
        this.#held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = DataDirLock.read(this.path);
        if (holder && isAlive(holder.pid)) throw cloudRunning(holder, this.path);
        rmSync(this.path, { force: true }); // stale: its process is gone
      }
    }
    throw new Error(`could not lock ${this.path}`);
  }

  /** Updates the URL recorded in the lock once the server listens. */
  setUrl(url: string): void {
    if (!this.#held) return;
    const info: LockInfo = { ...(DataDirLock.read(this.path) ?? { pid: process.pid, startedAt: new Date().toISOString() }), url };
    const fd = openSync(this.path, 'w', 0o600);
    writeSync(fd, JSON.stringify(info));
    closeSync(fd);
  }

  release(): void {
    if (!this.#held) return;
    const holder = DataDirLock.read(this.path);
    if (holder?.pid === process.pid) rmSync(this.path, { force: true });
    this.#held = false;
  }

  /** The live holder of a data directory, if any. */
  static holder(dataDir: string): LockInfo | null {
    const info = DataDirLock.read(join(dataDir, 'cloud.lock'));
    return info && isAlive(info.pid) ? info : null;
  }

  static read(path: string): LockInfo | null {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    } catch {
      return null;
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function cloudRunning(holder: LockInfo, path: string): SkybridgeError {
  const where = holder.url ? `: use --url ${holder.url}` : ' (it is still starting): wait for it, then use --url';
  return new SkybridgeError('cloud_running', `the data directory is in use by a running Skybridge Cloud (pid ${holder.pid}, lock ${path})${where}`);
}
