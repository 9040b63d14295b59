#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { cloudCommand } from './commands/cloud.ts';
import { connectCommand } from './commands/connect.ts';
import { demoCommand } from './commands/demo.ts';

const program = new Command('skybridge')
  .description('Skybridge: synchronize Active Directory into a multi-tenant cloud directory')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

program.addCommand(cloudCommand());
program.addCommand(connectCommand());
program.addCommand(demoCommand());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const e = err as Error & { code?: string };
  process.stderr.write(`skybridge: ${e.message}${e.code && !/^[A-Z]/.test(e.code) ? ` [${e.code}]` : ''}\n`);
  // A ConnectError's exit status tells scripts what kind of failure it was: 2 configuration, 3 Active Directory, 1 other.
  if (typeof e.code === 'string' && /^(config_|secret_)/.test(e.code)) process.exit(2);
  if (typeof e.code === 'string' && e.code.startsWith('ad_')) process.exit(3);
  if (process.env.SKYBRIDGE_DEBUG) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}
