import { createSocket, type Socket } from 'node:dgram';
import * as packet from 'dns-packet';

export type TestRecord =
  | { type: 'TXT'; data: string | string[] }
  | { type: 'MX'; exchange: string; preference?: number }
  | { type: 'CNAME'; target: string }
  | { type: 'A'; address: string };

/**
 * A real DNS server over UDP on loopback, answering from a zone the test
 * edits as it goes: the cloud's resolver (--dns-server) queries it as it
 * would any authoritative server. Names in `failing` answer SERVFAIL.
 */
export class TestDnsServer {
  readonly zone = new Map<string, TestRecord[]>();
  readonly failing = new Set<string>();
  queries = 0;
  #socket: Socket;
  port = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  static async start(): Promise<TestDnsServer> {
    const socket = createSocket('udp4');
    const server = new TestDnsServer(socket);
    socket.on('message', (msg, rinfo) => {
      const reply = server.#answer(msg);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    server.port = socket.address().port;
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  set(name: string, records: TestRecord[]): void {
    this.zone.set(name.toLowerCase(), records);
  }

  add(name: string, record: TestRecord): void {
    this.set(name, [...(this.zone.get(name.toLowerCase()) ?? []), record]);
  }

  #answer(msg: Buffer): Buffer | null {
    let query: packet.Packet;
    try {
      query = packet.decode(msg);
    } catch {
      return null;
    }
    this.queries += 1;
    const q = query.questions?.[0];
    if (!q) return null;
    const name = q.name.toLowerCase();
    const base = { id: query.id, type: 'response' as const, flags: packet.AUTHORITATIVE_ANSWER | packet.RECURSION_DESIRED, questions: [q] };
    if (this.failing.has(name)) return packet.encode({ ...base, flags: base.flags | 2 /* SERVFAIL */, answers: [] });
    const records = this.zone.get(name);
    const exists = records !== undefined || [...this.zone.keys()].some((k) => k.endsWith(`.${name}`));
    const cname = records?.find((r) => r.type === 'CNAME');
    const matching = (records ?? []).filter((r) => r.type === q.type || (cname && r === cname));
    const answers: packet.Answer[] = matching.map((r) => {
      const rr = { name: q.name, ttl: 60, class: 'IN' as const };
      switch (r.type) {
        case 'TXT': return { ...rr, type: 'TXT', data: (Array.isArray(r.data) ? r.data : [r.data]).map((d) => Buffer.from(d)) } as packet.Answer;
        case 'MX': return { ...rr, type: 'MX', data: { exchange: r.exchange, preference: r.preference ?? 0 } } as packet.Answer;
        case 'CNAME': return { ...rr, type: 'CNAME', data: r.target } as packet.Answer;
        case 'A': return { ...rr, type: 'A', data: r.address } as packet.Answer;
      }
    });
    // NXDOMAIN (rcode 3) for a name with no records at all; an empty answer (NODATA) otherwise
    return packet.encode({ ...base, flags: base.flags | (exists ? 0 : 3), answers });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
