/** Runs a commander program and turns errors into messages and exit codes, the same way for every entry point. */
import { CommanderError, type Command } from 'commander';

export async function runProgram(program: Command): Promise<void> {
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
}
