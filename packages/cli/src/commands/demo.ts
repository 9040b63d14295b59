import { resolve } from 'node:path';
import { Command } from 'commander';
import { runDemo } from '../demo/run-demo.ts';

const portOption = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be a number from 0 to 65535 (got ${v})`);
  return n;
};

export function demoCommand(): Command {
  return new Command('demo')
    .description('The whole system on this machine: a throwaway AD domain (Samba), Skybridge Cloud, a tenant and an agent that syncs the domain into it')
    .option('--dir <dir>', 'where the demo keeps its cloud, agent and tenant (running again reuses them)', '.skybridge/demo')
    .option('--port <n>', 'port of the cloud (0: any free one)', portOption, 8443)
    .option('--tenant <name>', 'name of the demo tenant (its initial domain is NAME.skybridge.test)', 'contoso')
    .option('--no-install', 'do not install the Samba packages with apt-get when they are missing')
    .option('--exit', 'stop everything after the first sync instead of following changes')
    .option('--json', 'print the result as one line of JSON once the first sync is done')
    .action(async (opts: { dir: string; port: number; tenant: string; install: boolean; exit?: boolean; json?: boolean }) => {
      await runDemo({
        dir: resolve(opts.dir), port: opts.port, tenantName: opts.tenant, install: opts.install, keepRunning: !opts.exit,
        onReady: (result, text) => process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : text),
        progress: (line) => process.stderr.write(`${line}\n`),
      });
    });
}
