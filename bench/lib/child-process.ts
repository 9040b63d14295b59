/** Timing a child process, and the raw LDAP read every AD benchmark compares with. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { importedAttributes, importFilter, memberAttribute } from '../../packages/connect/src/ad/attributes.ts';
import type { TestDc } from '../../scripts/test-dc/test-dc.ts';

/** The V8 limits the agent runs with (the skybridge launcher reads the same file). */
export const agentFlags = readFileSync(new URL('../../scripts/agent-node-flags', import.meta.url), 'utf8').trim().split(/\s+/).filter(Boolean);

export function time(cmd: string, args: string[], env: Record<string, string>): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { if (stdout.length < 1 << 20) stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; if (process.env.BENCH_TRACE || process.env.BENCH_MEMORY) process.stderr.write(d); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - started, stdout }) : reject(new Error(`${cmd} exited ${code}: ${stderr}`))));
  });
}


/**
 * The raw read: ldapsearch with the connector's exact base, filter,
 * attributes and page size, over LDAPS as the connector account, to
 * /dev/null. Returns milliseconds.
 */
export async function rawLdapsearch(dc: TestDc, pageSize: number, rangeStep: number): Promise<number> {
  const attributes = [...importedAttributes, `${memberAttribute};range=0-${rangeStep - 1}`];
  const r = await time('sh', ['-c', `ldapsearch -LLL -o ldif-wrap=no -H "$URL" -x -D "$BINDDN" -w "$PW" -b "$BASE" -s sub -E pr=${pageSize}/noprompt "$FILTER" ${attributes.map((a) => `'${a}'`).join(' ')} > /dev/null`], {
    URL: dc.ldapsUrl, BINDDN: dc.connector.userPrincipalName, PW: dc.connector.password, BASE: dc.baseDn, FILTER: importFilter,
    // The DC's certificate names dc1.<realm>, not the loopback address ldapsearch connects to, and OpenLDAP's
    // client cannot be told another name: it still negotiates the same TLS session, but checks the name loosely.
    LDAPTLS_CACERT: dc.caFile, LDAPTLS_REQCERT: 'allow',
  });
  return r.ms;
}

/**
 * CPU seconds (user + system) spent so far by the processes of a process
 * group (a test DC's samba and its children) or whose command line contains
 * a string ("postgres:"), read from /proc; take the difference of two
 * readings. Processes that ended between the readings are not counted.
 */
export function cpuSecondsOf(which: { processGroup: number } | { cmdline: string }): number {
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      // the fields after the command name in parentheses: pgrp is the 3rd, utime and stime the 12th and 13th
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ours = 'processGroup' in which ? Number(fields[2]) === which.processGroup : readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(which.cmdline);
      if (ours) total += (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      // the process ended while we read it
    }
  }
  return total;
}
