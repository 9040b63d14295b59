/**
 * A TCP proxy on loopback in front of a real server, for counting what an
 * agent sends and for injecting faults (a connection cut after N bytes of
 * the server's answer). It never looks inside the bytes: TLS stays end to end.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

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
    const limit = cut && cut.left > 0 ? cut.bytes : undefined;
    if (cut && limit !== undefined) cut.left -= 1;
    client.on('data', (d: Buffer) => { clientBytes += d.length; upstream.write(d); });
    upstream.on('data', (d: Buffer) => {
      if (limit !== undefined && sent + d.length > limit) {
        const part = d.subarray(0, Math.max(0, limit - sent));
        serverBytes += part.length;
        client.write(part, () => { client.destroy(); upstream.destroy(); });
        sent = limit;
        return;
      }
      sent += d.length;
      serverBytes += d.length;
      client.write(d);
    });
    const end = () => { client.destroy(); upstream.destroy(); open.delete(client); open.delete(upstream); };
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
    refuse(on) { refusing = on; },
    cutAll() { for (const s of open) s.destroy(); },
    close: () => new Promise<void>((resolve) => { for (const s of open) s.destroy(); server.close(() => resolve()); }),
  };
}
