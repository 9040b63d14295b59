#!/usr/bin/env node
/**
 * The entry point of the agent package (scripts/build-agent-package.ts):
 * `skybridge connect …` only, without the cloud or the demo, bundled into
 * one file that runs on Node.js 24 without the source tree.
 */
import { Command } from 'commander';
import { currentAgentVersion } from '@skybridge/protocol';
import { connectCommand } from './commands/connect.ts';
import { runProgram } from './run-program.ts';

const program = new Command('skybridge')
  .description('Skybridge Connect: synchronize Active Directory into Skybridge Cloud')
  .version(currentAgentVersion)
  .showHelpAfterError()
  .exitOverride();

program.addCommand(connectCommand());

await runProgram(program);
