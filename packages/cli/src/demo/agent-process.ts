import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cliMain = fileURLToPath(new URL('../main.ts', import.meta.url));
const agentFlagsFile = fileURLToPath(new URL('../../../../scripts/agent-node-flags', import.meta.url));

/** The agent runs as its own process, with the V8 limits `./skybridge connect …` applies. */
function agentArgs(args: string[]): string[] {
  const flags = (process.env.SKYBRIDGE_AGENT_NODE_FLAGS ?? readFileSync(agentFlagsFile, 'utf8')).trim().split(/\s+/).filter(Boolean);
  return [...flags, cliMain, 'connect', ...args];
}

/** Runs `skybridge connect ARGS` to completion; rejects with its stderr when it fails. */
export function runAgentCommand(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, agentArgs(args), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(Object.assign(new Error(`skybridge connect ${args[0]} failed (exit ${code}): ${stderr.trim() || stdout.trim()}`), { code: 'demo_agent_failed' }));
    });
  });
}

/** Starts `skybridge connect ARGS` as a long-running process; each output line goes to `onLine`. */
export function startAgentProcess(args: string[], onLine: (line: string, stream: 'stdout' | 'stderr') => void): ChildProcess {
  const child = spawn(process.execPath, agentArgs(args), { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of ['stdout', 'stderr'] as const) {
    let rest = '';
    child[stream].on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line) onLine(line, stream);
    });
  }
  return child;
}
