/**
 * A TCP proxy on loopback in front of a real server, for counting what an
 * agent sends and for injecting faults (a connection cut after N bytes of
 * the server's answer, or any byte-level change to it through a filter).
 * It never looks inside the bytes itself: TLS stays end to end, and without
 * a fault set it relays both directions unchanged.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * What a server filter makes of one chunk of the server's stream: the bytes
 * to forward to the client instead (the chunk itself, altered bytes, or an
 * empty buffer to hold them back, which stalls the client), or `close` to
 * forward `forward` and then close both sides of the connection.
 */
export type ServerFilterResult = Buffer | { forward: Buffer; close: true };

/**
 * A filter over one connection's server-to-client stream: it sees each
 * chunk the server sends, in order, with the chunk's offset in the
 * server's (unaltered) stream on that connection.
 */
export type ServerFilter = (chunk: Buffer, offset: number) => ServerFilterResult;

export interface TcpProxy {
  port: number;
  host: string;
  /** bytes sent by clients to the server, and back, since the last reset */
  readonly clientBytes: number;
  readonly serverBytes: number;
  readonly connections: number;
  reset(): void;
  /** Cut the next connection(s) once the server has sent `bytes` bytes on it. */
  cutAfterServerBytes(bytes: number, connections?: number): void;
  /**
   * Filter the server's bytes on connections opened from now on: `make` is
   * called once per new connection and returns that connection's filter
   * (so a filter can keep state, such as where the protocol's messages
   * start). `null` stops filtering new connections; connections already
   * open keep their filter.
   */
  mangleServer(make: (() => ServerFilter) | null): void;
  /** Refuse new connections (close them at once) until allowed again. */
  refuse(on: boolean): void;
  /** Destroy every open connection now. */
  cutAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let clientBytes = 0;
  let serverBytes = 0;
  let connections = 0;
  let cut: { bytes: number; left: number } | undefined;
  let makeFilter: (() => ServerFilter) | null = null;
  let refusing = false;
  const server: Server = createServer((client) => {
    connections += 1;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(target);
    open.add(client);
    open.add(upstream);
    let sent = 0;
    let received = 0;
    let closing = false;
    const limit = cut && cut.left > 0 ? cut.bytes : undefined;
    if (cut && limit !== undefined) cut.left -= 1;
    const filter = makeFilter?.();
    const end = () => { client.destroy(); upstream.destroy(); open.delete(client); open.delete(upstream); };
    client.on('data', (d: Buffer) => { clientBytes += d.length; upstream.write(d); });
    upstream.on('data', (raw: Buffer) => {
      if (closing) return;
      let d = raw;
      if (filter) {
        const result = filter(raw, received);
        received += raw.length;
        if (!Buffer.isBuffer(result)) {
          closing = true;
          serverBytes += result.forward.length;
          client.write(result.forward, end);
          return;
        }
        d = result;
      }
      if (limit !== undefined && sent + d.length > limit) {
        const part = d.subarray(0, Math.max(0, limit - sent));
        serverBytes += part.length;
        closing = true;
        client.write(part, end);
        sent = limit;
        return;
      }
      sent += d.length;
      serverBytes += d.length;
      if (d.length) client.write(d);
    });
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    host: '127.0.0.1',
    get clientBytes() { return clientBytes; },
    get serverBytes() { return serverBytes; },
    get connections() { return connections; },
    reset() { clientBytes = 0; serverBytes = 0; connections = 0; },
    cutAfterServerBytes(bytes, count = 1) { cut = { bytes, left: count }; },
    mangleServer(make) { makeFilter = make; },
    refuse(on) { refusing = on; },
    cutAll() { for (const s of open) s.destroy(); },
    close: () => new Promise<void>((resolve) => { for (const s of open) s.destroy(); server.close(() => resolve()); }),
  };
}
