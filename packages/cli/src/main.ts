#!/usr/bin/env node
import { Command } from 'commander';
import { cloudCommand } from './commands/cloud.ts';
import { connectCommand } from './commands/connect.ts';
import { demoCommand } from './commands/demo.ts';
import { runProgram } from './run-program.ts';

const program = new Command('skybridge')
  .description('Skybridge: synchronize Active Directory into a multi-tenant cloud directory')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

program.addCommand(cloudCommand());
program.addCommand(connectCommand());
program.addCommand(demoCommand());

await runProgram(program);
