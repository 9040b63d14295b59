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

  async #stop(): Promise<void> {
    const pid = this.#pid();
    if (!pid) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        rmSync(join(this.#dir, 'nsd.pid'), { force: true });
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(pid, 'SIGKILL');
  }

  async close(): Promise<void> {
    await this.#stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
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
