/** The shapes the directory synchronization page reads from the admin API (/api/v1). */

/** GET /tenant */
export interface Tenant {
  id: string;
  name: string;
  initialDomain: string;
  directorySynchronizationEnabled: boolean;
  blockSoftMatch: boolean;
  blockHardMatchTakeover: boolean;
  passThroughAuthentication: boolean;
  passwordHashSync: boolean;
  forcePasswordChangeOnLogOn: boolean;
  domains: { name: string; isInitial: boolean; isDefault: boolean; isVerified: boolean }[];
}

/** GET /domains (items) */
export type { Domain } from '../domains/domain-types.ts';

/** What an agent reports with each heartbeat (POST /agents/v1/heartbeat), as GET /agents hands it back. */
export interface Heartbeat {
  version: string;
  role: 'active' | 'standby' | 'staging';
  lastCycle?: { kind: 'full' | 'delta'; startedAt: string; finishedAt: string | null; adds: number; updates: number; deletes: number; errors: number };
  errorCounts?: Record<string, number>;
  domainPolicy?: { lockoutThreshold: number };
  passwordHashSync?: { lastRunAt: string; ok: boolean; error?: string; synced: number; errors: number };
}

/** GET /agents (items) */
export interface Agent {
  id: string;
  hostname: string;
  version: string;
  outdated: boolean;
  currentVersion: string;
  registeredDateTime: string;
  lastHeartbeatDateTime: string | null;
  health: Heartbeat | null;
  channel: { connected: boolean; since?: string };
}

/** GET /agents/package */
export interface AgentPackage {
  fileName: string;
  version: string;
  size: number;
  sha256: string;
  downloadUrl: string;
}

/** POST /agents/registration-tokens */
export interface RegistrationToken {
  registrationToken: string;
  expiresAt: string;
  /** SPKI SHA-256 of the certificate the cloud serves; null behind a TLS proxy */
  cloudCertificatePin?: string | null;
}

/** GET /sync/cycles (items) */
export interface SyncCycle {
  agentId: string;
  agentHostname: string | null;
  kind: string;
  startedDateTime: string;
  finishedDateTime: string | null;
  adds: number;
  updates: number;
  deletes: number;
  errors: number;
}

/** GET /sync/alerts (items) */
export interface SyncAlert {
  code: string;
  message: string;
  pendingDeletions: number | null;
  deleteThreshold: number | null;
  sample: { dn: string; type: string; immutableId: string }[];
  agentId: string | null;
  allowedDeletions: number;
  allowedBy: string | null;
  allowedDateTime: string | null;
  raisedDateTime: string | null;
  updatedDateTime: string | null;
}

/** GET /sync/errors (items) */
export interface SyncError {
  immutableId: string;
  type: string;
  category: string;
  code: string;
  message: string;
  attribute: string | null;
  onPremisesDistinguishedName: string | null;
  firstSeenDateTime: string;
  lastSeenDateTime: string;
}

/** The roles that manage directory synchronization (agents, tokens, the switch, allowing deletions). */
export const syncAdminRoles = ['GlobalAdministrator', 'HybridIdentityAdministrator'] as const;
