import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { DataDirLock, cloudRunning, createTenant, openStore, startCloud, type CreatedTenant, type Store } from '@skybridge/cloud';
import { callJson } from '@skybridge/connect';
import { paths } from '@skybridge/protocol';

/** Default data directory of the cloud: $SKYBRIDGE_DATA_DIR, else .skybridge/cloud under the working directory. */
export const defaultDataDir = (): string => resolve(process.env.SKYBRIDGE_DATA_DIR ?? '.skybridge/cloud');

const portOption = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be a number from 0 to 65535 (got ${v})`);
  return n;
};

export function cloudCommand(): Command {
  const cloud = new Command('cloud').description('Run and administer Skybridge Cloud');

  cloud
    .command('start')
    .description('Start Skybridge Cloud (HTTPS by default, embedded store unless --database-url)')
    .option('--port <n>', 'port to listen on (default 8443, or 8080 with --http)', portOption)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'data directory: embedded database, TLS certificate, operator token', defaultDataDir())
    .addOption(new Option('--database-url <url>', 'PostgreSQL URL instead of the embedded store').env('DATABASE_URL'))
    .option('--tls-cert <file>', 'PEM certificate to serve (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--http', 'serve plain HTTP (only on a loopback address)')
    .option('--public-url <url>', 'external base URL, when it differs from https://HOST:PORT')
    .option('--service-domain <zone>', 'the deployment\'s DNS zone that customer domains\' MX, CNAME and SPF records point at (default: the public URL\'s host)')
    .option('--outbound-ca <file>', 'PEM of extra CA certificates to trust when calling identity providers of federated domains (besides the system\'s and this cloud\'s own)')
    .option('--agent-package <file>', 'the agent package (.tar.gz from node scripts/build-agent-package.ts) administrators download from GET /api/v1/agents/package/download')
    .option('--dns-server <ip[:port]>', 'DNS server for domain verification and record checks (repeat for several; default: the system\'s resolvers)', (v: string, all: string[] = []) => [...all, v])
    .action(async (opts: { port?: number; host: string; dataDir: string; databaseUrl?: string; tlsCert?: string; tlsKey?: string; http?: boolean; publicUrl?: string; serviceDomain?: string; dnsServer?: string[]; outboundCa?: string; agentPackage?: string }) => {
      if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new Error('give both --tls-cert and --tls-key, or neither (a self-signed certificate is then kept in the data dir)');
      if (opts.http && opts.tlsCert) throw new Error('--http and --tls-cert exclude each other');
      const running = await startCloud({
        port: opts.port,
        host: opts.host,
        dataDir: resolve(opts.dataDir),
        databaseUrl: opts.databaseUrl,
        tls: opts.http ? 'none' : opts.tlsCert ? { certPath: opts.tlsCert, keyPath: opts.tlsKey! } : 'self-signed',
        publicUrl: opts.publicUrl,
        ...(opts.serviceDomain ? { serviceDomain: opts.serviceDomain } : {}),
        ...(opts.dnsServer ? { dnsServers: opts.dnsServer } : {}),
        ...(opts.outboundCa ? { outboundCa: readFileSync(opts.outboundCa, 'utf8') } : {}),
        ...(opts.agentPackage ? { agentPackage: resolve(opts.agentPackage) } : {}),
      });
      const lines = [
        `Skybridge Cloud is running at ${running.url}`,
        `  store:           ${running.context.store.kind === 'pglite' ? `embedded (PGlite) in ${resolve(opts.dataDir, 'db')}` : 'PostgreSQL'}`,
        running.tls ? `  TLS certificate: ${running.tls.certPath} (${running.tls.origin}), pin sha256/${running.tls.pin}` : '  TLS:             off (plain HTTP on loopback)',
        `  operator token:  ${running.operatorTokenPath}`,
        `Create a tenant:   skybridge cloud tenant create --name contoso --url ${running.url} --data-dir ${resolve(opts.dataDir)}`,
        'Stop with Ctrl-C.',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      await new Promise<void>((done) => {
        const stop = () => void running.close().then(done, done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  const tenant = cloud.command('tenant').description('Manage tenants');
  tenant
    .command('create')
    .description('Create a tenant: initial domain, first Global Administrator and an API client')
    .requiredOption('--name <name>', 'tenant name; becomes the initial domain NAME.skybridge.test')
    .option('--json', 'print the result as JSON')
    .option('--url <url>', 'a running cloud to ask (needs the operator token)')
    .option('--data-dir <dir>', 'the cloud\'s data directory (operator token and certificate; or the embedded store when the cloud is stopped)')
    .addOption(new Option('--database-url <url>', 'PostgreSQL URL of the cloud\'s store').env('DATABASE_URL'))
    .option('--operator-token-file <file>', 'file holding the operator token (default DATA_DIR/operator-token)')
    .option('--ca-file <file>', 'CA or certificate to trust for --url (default DATA_DIR/tls/cert.pem when present)')
    .option('--public-url <url>', 'base URL for the issuer when the cloud is not running (default: the URL it last ran at)')
    .action(async (opts: { name: string; json?: boolean; url?: string; dataDir?: string; databaseUrl?: string; operatorTokenFile?: string; caFile?: string; publicUrl?: string }) => {
      const created = opts.url ? await createThroughApi(opts.url, opts) : await createInStore(opts);
      process.stdout.write(opts.json ? `${JSON.stringify(created, null, 2)}\n` : describe(created));
    });
  return cloud;
}

async function createThroughApi(url: string, opts: { name: string; dataDir?: string; operatorTokenFile?: string; caFile?: string }): Promise<CreatedTenant> {
  const dataDir = resolve(opts.dataDir ?? defaultDataDir());
  const tokenFile = opts.operatorTokenFile ?? join(dataDir, 'operator-token');
  if (!existsSync(tokenFile)) throw new Error(`no operator token at ${tokenFile}: pass --operator-token-file, or --data-dir of the running cloud`);
  const caFile = opts.caFile ?? (existsSync(join(dataDir, 'tls', 'cert.pem')) ? join(dataDir, 'tls', 'cert.pem') : undefined);
  return callJson<CreatedTenant>(`${url.replace(/\/$/, '')}${paths.operatorApi}/tenants`, `creating tenant ${opts.name}`, {
    method: 'POST',
    body: { name: opts.name },
    headers: { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` },
    trust: caFile ? { ca: readFileSync(caFile, 'utf8') } : {},
  });
}

async function createInStore(opts: { name: string; dataDir?: string; databaseUrl?: string; publicUrl?: string }): Promise<CreatedTenant> {
  let store: Store;
  let lock: DataDirLock | null = null;
  if (opts.databaseUrl) {
    store = await openStore({ databaseUrl: opts.databaseUrl });
  } else {
    const dataDir = resolve(opts.dataDir ?? defaultDataDir());
    const holder = DataDirLock.holder(dataDir);
    if (holder) throw cloudRunning(holder, join(dataDir, 'cloud.lock'));
    lock = new DataDirLock(dataDir);
    lock.acquire(null);
    store = await openStore({ dataDir }).catch((err: unknown) => {
      lock?.release();
      throw err;
    });
  }
  try {
    const { rows } = await store.query<{ value: string }>(`SELECT value FROM deployment_settings WHERE name = 'public_url'`);
    const publicUrl = opts.publicUrl ?? rows[0]?.value ?? 'https://127.0.0.1:8443';
    return await createTenant(store, { name: opts.name, publicUrl, initialDomainSuffix: 'skybridge.test' });
  } finally {
    await store.close();
    lock?.release();
  }
}

function describe(t: CreatedTenant): string {
  return [
    `Tenant ${t.name} created.`,
    `  tenant id:        ${t.tenantId}`,
    `  initial domain:   ${t.initialDomain}`,
    `  OIDC discovery:   ${t.discoveryUrl}`,
    `  administrator:    ${t.admin.userPrincipalName}`,
    `  one-time password: ${t.admin.oneTimePassword}   (must be changed at first sign-in)`,
    `  API client id:    ${t.apiClient.clientId}`,
    `  API client secret: ${t.apiClient.clientSecret}   (shown once: keep it in a secret store)`,
    `Get a token: POST ${t.tokenEndpoint} with grant_type=client_credentials&resource=${t.apiAudience}`,
    '',
  ].join('\n');
}
