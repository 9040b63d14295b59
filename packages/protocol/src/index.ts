export * from './paths.ts';
export * from './roles.ts';
export * from './licences.ts';
export * from './errors.ts';
export * from './quotas.ts';
export * from './directory.ts';
export * from './agent-api.ts';
export * from './channel.ts';
export * from './password-hash.ts';

/** The release of Skybridge Connect this build ships; the cloud flags agents older than it. */
export const currentAgentVersion = '0.1.0';

/** Compares dotted release numbers (1.10.0 > 1.9.2); a non-numeric part counts as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length, 3); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return Math.sign(d);
  }
  return 0;
}

/** Version of the agent↔cloud contract; bumped on incompatible change. */
export const protocolVersion = '1';
