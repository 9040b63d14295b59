import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';

export type TestRecord =
  | { type: 'TXT'; data: string | string[] }
  | { type: 'MX'; exchange: string; preference?: number }
  | { type: 'CNAME'; target: string }
  | { type: 'A'; address: string };

const nsdBinary = '/usr/sbin/nsd';

/**
 * A real authoritative DNS server (NLnet Labs' NSD, Debian's nsd package) on
 * loopback, serving the zone `example.` from a zone file the test edits as it
 * goes: each change rewrites the file and restarts the server, and the
 * cloud's resolver (--dns-server) queries it as it would any DNS server. A
 * name made to fail is a zone of its own whose file does not exist, which NSD
 * answers with SERVFAIL.
 */
export class TestDnsServer {
  readonly #dir: string;
  readonly #records = new Map<string, TestRecord[]>();
  readonly #failing = new Set<string>();
  #serial = 1;
  port = 0;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async start(): Promise<TestDnsServer> {
    if (spawnSync(nsdBinary, ['-v']).error) throw new Error(`${nsdBinary} is missing: install Debian's nsd package (apt-get install nsd), as .ci/run does`);
    const server = new TestDnsServer(mkdtempSync(join(tmpdir(), 'skybridge-dns-')));
    server.port = await freePort();
    await server.#restart();
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  records(name: string): TestRecord[] {
    return this.#records.get(name.toLowerCase()) ?? [];
  }

  /** Replaces the records of a name (none: the name goes). */
  async set(name: string, records: TestRecord[]): Promise<void> {
    if (records.length) this.#records.set(name.toLowerCase(), records);
    else this.#records.delete(name.toLowerCase());
    await this.#restart();
  }

  async add(name: string, record: TestRecord): Promise<void> {
    await this.set(name, [...this.records(name), record]);
  }

  /** Queries for the name (and below it) answer SERVFAIL until heal(). */
  async fail(name: string): Promise<void> {
    this.#failing.add(name.toLowerCase());
    await this.#restart();
  }

  async heal(name: string): Promise<void> {
    this.#failing.delete(name.toLowerCase());
    await this.#restart();
  }

  #zoneFile(): string {
    const quote = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
    const lines = [
      '$TTL 60',
      `example. IN SOA ns.example. hostmaster.example. ${this.#serial++} 3600 600 86400 60`,
      'example. IN NS ns.example.',
      'ns.example. IN A 127.0.0.1',
    ];
    for (const [name, records] of this.#records) {
      if (!name.endsWith('.example')) throw new Error(`the test DNS server serves names under example. only, not ${name}`);
      for (const r of records) {
        const data = r.type === 'TXT' ? (Array.isArray(r.data) ? r.data : [r.data]).map(quote).join(' ')
          : r.type === 'MX' ? `${r.preference ?? 0} ${r.exchange.replace(/\.?$/, '.')}`
          : r.type === 'CNAME' ? r.target.replace(/\.?$/, '.')
          : r.address;
        lines.push(`${name}. IN ${r.type} ${data}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  #config(): string {
    const d = this.#dir;
    return [
      'server:',
      `  ip-address: 127.0.0.1@${this.port}`,
      `  port: ${this.port}`,
      '  username: ""', '  chroot: ""', '  database: ""', '  server-count: 1', '  verbosity: 1',
      `  zonesdir: "${d}"`, `  zonelistfile: "${d}/zone.list"`, `  xfrdfile: "${d}/xfrd.state"`, `  xfrdir: "${d}"`,
      `  pidfile: "${d}/nsd.pid"`, `  logfile: "${d}/nsd.log"`,
      'remote-control:', '  control-enable: no',
      'zone:', '  name: example.', '  zonefile: example.zone',
      ...[...this.#failing].flatMap((n) => ['zone:', `  name: ${n}.`, '  zonefile: never-written.zone']),
      '',
    ].join('\n');
  }

  async #restart(): Promise<void> {
    await this.#stop();
    writeFileSync(join(this.#dir, 'example.zone'), this.#zoneFile());
    writeFileSync(join(this.#dir, 'nsd.conf'), this.#config());
    const started = spawnSync(nsdBinary, ['-c', join(this.#dir, 'nsd.conf')], { encoding: 'utf8' });
    if (started.status !== 0) throw new Error(`nsd did not start: ${started.stderr}${this.#log()}`);
    // ready when it answers for its zone
    const probe = new Resolver({ timeout: 200, tries: 1 });
    probe.setServers([this.address]);
    for (let i = 0; ; i++) {
      try {
        await probe.resolveNs('example');
        return;
      } catch (err) {
        if (i > 50) throw new Error(`nsd does not answer on ${this.address}: ${(err as Error).message}${this.#log()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  #pid(): number | null {
    try {
      return Number(readFileSync(join(this.#dir, 'nsd.pid'), 'utf8').trim()) || null;
    } catch {
      return null;
    }
  }

  #log(): string {
    try {
      return `\n${readFileSync(join(this.#dir, 'nsd.log'), 'utf8').split('\n').slice(-10).join('\n')}`;
    } catch {
      return '';
    }
  }

  /**
   * Stops the running NSD and waits until it is gone, so that the next one
   * can bind the port. NSD is a daemon (not this process's child): it can
   * exit, and be reaped, between any two of these calls, so a signal that
   * finds no process means it is already gone. A slow shutdown on a loaded
   * machine gets SIGKILL after five seconds.
   */
  async #stop(): Promise<void> {
    const pid = this.#pid();
    if (!pid) return;
    if (signal(pid, 'SIGTERM') && !(await exited(pid, 5000))) {
      signal(pid, 'SIGKILL');
      if (!(await exited(pid, 5000))) throw new Error(`nsd (pid ${pid}) did not exit after SIGKILL${this.#log()}`);
    }
    rmSync(join(this.#dir, 'nsd.pid'), { force: true });
  }

  async close(): Promise<void> {
    await this.#stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Sends a signal; false when the process no longer exists. */
function signal(pid: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Waits up to `ms` for a process to end; an unreaped zombie counts as ended. */
async function exited(pid: number, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    if (!signal(pid, 0)) return true;
    try {
      // /proc/<pid>/stat: "pid (comm) state ..."; Z is a zombie nobody has reaped yet
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** A loopback port free for both UDP and TCP (NSD serves both). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      }).on('error', reject);
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free loopback port for the test DNS server');
}
