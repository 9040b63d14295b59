/**
 * The peak resident set size of this process's own memory, in KiB.
 *
 * Not process.resourceUsage().maxRSS: Linux keeps ru_maxrss across
 * execve(2), and Node spawns a child by sharing the parent's memory until
 * the exec, so a benchmark worker's ru_maxrss starts at its parent's RSS.
 * A parent holding the cloud with PGlite (a few hundred MB) made a worker
 * that never used 240 MB report 292 MB. VmHWM is the high-water mark of
 * the memory the process has now, which begins at the exec.
 */
import { readFileSync } from 'node:fs';

export function ownPeakRssKb(): number {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!hwm) throw new Error('/proc/self/status has no VmHWM line: the peak RSS is measured on Linux only');
  return Number(hwm[1]);
}
