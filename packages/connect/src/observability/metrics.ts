/**
 * The agent's Prometheus metrics (prom-client), served on a loopback address
 * by default (`skybridge connect run --metrics 127.0.0.1:9464`): sync
 * cycles and what they exported, password hashes, pass-through
 * authentications, and the process's own (memory, CPU, event-loop lag).
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ConnectError } from '../errors.ts';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly cycles = new Counter({ name: 'skybridge_connect_cycles_total', help: 'Sync cycles run, by import kind and result', labelNames: ['kind', 'result'] as const, registers: [this.registry] });
  readonly cycleSeconds = new Histogram({ name: 'skybridge_connect_cycle_duration_seconds', help: 'Duration of a sync cycle (import and export)', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800], registers: [this.registry] });
  readonly lastCycle = new Gauge({ name: 'skybridge_connect_last_cycle_timestamp_seconds', help: 'When the last successful cycle finished (Unix time)', registers: [this.registry] });
  readonly exported = new Counter({ name: 'skybridge_connect_objects_exported_total', help: 'Objects exported to the cloud, by operation', labelNames: ['operation'] as const, registers: [this.registry] });
  readonly memberChanges = new Counter({ name: 'skybridge_connect_member_changes_exported_total', help: 'Group membership changes exported to the cloud', registers: [this.registry] });
  readonly syncErrors = new Gauge({ name: 'skybridge_connect_objects_with_errors', help: 'Objects the last cycle could not synchronize', registers: [this.registry] });
  readonly hashesSent = new Counter({ name: 'skybridge_connect_password_hashes_sent_total', help: 'Password hashes the cloud stored or cleared', registers: [this.registry] });
  readonly hashRuns = new Counter({ name: 'skybridge_connect_password_hash_runs_total', help: 'Password hash synchronization runs, by result', labelNames: ['result'] as const, registers: [this.registry] });
  readonly passThrough = new Counter({ name: 'skybridge_connect_pass_through_total', help: 'Pass-through authentications answered, by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly passThroughSeconds = new Histogram({ name: 'skybridge_connect_pass_through_duration_seconds', help: 'Time to answer a pass-through authentication (the bind to AD included)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 8], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'skybridge_connect_' });
  }
}

/** Parses HOST:PORT (IPv6 in brackets); the host defaults to loopback. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim()) ?? /^()()(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new ConnectError('config_invalid', `--metrics ${value}: expected HOST:PORT or PORT`, { subject: '--metrics', fix: 'for example --metrics 127.0.0.1:9464' });
  }
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** Serves /metrics (Prometheus text format) and /healthz; resolves with the address it listens on. */
export function serveMetrics(metrics: AgentMetrics, listen: { host: string; port: number }): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      }, (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err.message);
      });
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: GET /metrics or /healthz\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new ConnectError('config_invalid', `cannot serve metrics on ${listen.host}:${listen.port}: ${err.message}`, { subject: '--metrics', fix: 'choose a free port, on an address of this machine' })));
    server.listen(listen.port, listen.host, () => {
      const a = server.address() as { address: string; port: number };
      const host = a.address.includes(':') ? `[${a.address}]` : a.address;
      resolve({ url: `http://${host}:${a.port}/metrics`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}
