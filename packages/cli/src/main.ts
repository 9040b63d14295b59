#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { cloudCommand } from './commands/cloud.ts';

const program = new Command('skybridge')
  .description('Skybridge: synchronize Active Directory into a multi-tenant cloud directory')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

program.addCommand(cloudCommand());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const e = err as Error & { code?: string };
  process.stderr.write(`skybridge: ${e.message}${e.code && !/^[A-Z]/.test(e.code) ? ` [${e.code}]` : ''}\n`);
  if (process.env.SKYBRIDGE_DEBUG) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}
