/**
 * The agent's configuration file (brief §8): one versioned schema, YAML or
 * JSON, default path /etc/skybridge/connect.yaml, state under
 * /var/lib/skybridge, secrets only by reference to files of mode 0600.
 * Unknown keys are refused so that a typo never silently falls back to a
 * default.
 */
import { z } from 'zod';
import { filterSchema, rulesSchema } from '../rules/rules-config.ts';

export const configVersion = 1;
export const defaultConfigPath = '/etc/skybridge/connect.yaml';
export const defaultStateDirectory = '/var/lib/skybridge';

const dn = z.string().trim().min(3).regex(/^[A-Za-z][\w-]*=/, 'must be a distinguished name such as OU=Staff,DC=corp,DC=example,DC=com');

const ldapUrl = z.string().trim().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'ldaps:' || u.protocol === 'ldap:') && !!u.hostname && u.pathname.replace(/^\//, '') === '';
  } catch {
    return false;
  }
}, 'must be ldaps://HOST[:PORT] (LDAPS) or ldap://HOST[:PORT] (StartTLS)');

const fingerprint = z.string().trim().transform((v) => v.replace(/^sha256[:/]/i, '').replace(/:/g, '').toLowerCase())
  .refine((v) => /^[0-9a-f]{64}$/.test(v), 'must be the SHA-256 fingerprint of the certificate or its CA, 64 hex digits (colons allowed), as printed by openssl x509 -noout -fingerprint -sha256');

export const activeDirectorySchema = z.strictObject({
  /** Domain controllers, tried in order. ldap:// always upgrades with StartTLS: simple binds never travel in clear. */
  servers: z.array(ldapUrl).min(1),
  tls: z.strictObject({
    /** PEM file of the CA(s) to trust, instead of the system's. */
    caFile: z.string().min(1).optional(),
    /** Trust exactly this certificate (the DC's or its CA's), by SHA-256 fingerprint. */
    fingerprint: fingerprint.optional(),
    /** The name the DC's certificate carries, when servers are given by address. */
    serverName: z.string().trim().min(1).optional(),
  }).default({}),
  /** The connector account: a DN, a userPrincipalName or DOMAIN\name. */
  bindAs: z.string().trim().min(1),
  /** File holding the connector account's password (mode 0600). */
  passwordFile: z.string().min(1),
  /** Subtrees to synchronize; default: the whole domain. */
  containers: z.array(dn).default([]),
  /** Subtrees inside those to leave out. */
  excludedContainers: z.array(dn).default([]),
  /** Entries per page of a full import. */
  pageSize: z.number().int().min(1).max(5000).default(1000),
  /** Values of member read with each entry of a page (Windows DCs cap it at 1,500 by default); the rest of a longer list goes 20 times as wide (importer.ts, restRangeStep). */
  rangeStep: z.number().int().min(10).max(100_000).default(1000),
  /** How changes are found: DirSync (needs "Replicating Directory Changes"), uSNChanged polling, or auto (DirSync, else polling). */
  changeTracking: z.enum(['auto', 'dirsync', 'usn']).default('auto'),
  /** DirSync's object-security mode: no replication right needed, but only what the account may read. */
  dirsyncObjectSecurity: z.boolean().default(false),
  /** Seconds to wait for a TCP and TLS connection. */
  connectTimeoutSeconds: z.number().positive().max(300).default(10),
  /** Seconds to wait for one LDAP operation's answer (one page, one bind). */
  operationTimeoutSeconds: z.number().positive().max(3600).default(120),
  /** A delta runs at the latest this often even without change notifications; 0 turns the safety net off. */
  pollIntervalSeconds: z.number().min(0).max(86_400).default(300),
});

export const syncSchema = z.strictObject({
  /** What anchors an object to its cloud object for ever (sent base64 as the immutable id). */
  sourceAnchor: z.enum(['objectGUID', 'mS-DS-ConsistencyGuid']).default('objectGUID'),
  /** Deletions one cycle may export before an administrator allows them: a count, or a percentage such as "5%". */
  deleteThreshold: z.union([z.number().int().min(0), z.string().regex(/^\d{1,3}(\.\d+)?%$/, 'must be a count such as 500 or a percentage such as "5%"')]).default(500),
  /** Staging mode: import and plan everything, export nothing. */
  staging: z.boolean().default(false),
  /** With mS-DS-ConsistencyGuid as the anchor: write each exported user's objectGUID bytes into it (needs "Write mS-DS-ConsistencyGuid" on users). */
  stampConsistencyGuid: z.boolean().default(false),
  /** Custom rules over the defaults (docs/sync-rules.md); a change plans every object again. */
  rules: rulesSchema,
  /** Group-based and attribute filtering (docs/sync-rules.md); objects leaving scope are deleted from the cloud, subject to the delete threshold. */
  filter: filterSchema.default({ groups: [], exclude: [] }),
}).superRefine((s, ctx) => {
  if (s.stampConsistencyGuid && s.sourceAnchor !== 'mS-DS-ConsistencyGuid') {
    ctx.addIssue({ code: 'custom', path: ['stampConsistencyGuid'], message: 'stamps only with sourceAnchor: mS-DS-ConsistencyGuid (set it, or drop stampConsistencyGuid)' });
  }
});

/** Password hash synchronization (docs/password-hash-sync.md). */
export const passwordHashSyncSchema = z.strictObject({
  /** Send users' password hashes (never passwords) to the cloud; the tenant's passwordHashSync switch must be on too. */
  enabled: z.boolean().default(false),
  /** The domain controller to replicate hashes from (host name or address); default: the host of activeDirectory.servers[0]. */
  domainController: z.string().trim().min(1).optional(),
  /** From this many users due (the first sync, --full), read the whole domain in replication pages instead of user by user. */
  bulkFrom: z.number().int().min(1).default(1000),
});

export const agentConfigSchema = z.strictObject({
  version: z.literal(configVersion, { error: `must be ${configVersion}: this agent reads configuration version ${configVersion}` }),
  /** Connector space, change cookies, agent credentials. */
  stateDirectory: z.string().min(1).default(defaultStateDirectory),
  activeDirectory: activeDirectorySchema,
  cloud: z.strictObject({
    url: z.url({ protocol: /^https$/, error: 'must be the https:// URL of Skybridge Cloud' }),
    /** Written by `skybridge connect register` (default STATE_DIRECTORY/agent-credentials.json); mode 0600. */
    credentialsFile: z.string().min(1).optional(),
    /** PEM file of the CA that issued the cloud's certificate, when it is not a public one (used to register; afterwards the registration's pin is checked). */
    caFile: z.string().min(1).optional(),
  }).optional(),
  sync: syncSchema.default({ sourceAnchor: 'objectGUID', deleteThreshold: 500, staging: false, stampConsistencyGuid: false, rules: [], filter: { groups: [], exclude: [] } }),
  passwordHashSync: passwordHashSyncSchema.default({ enabled: false, bulkFrom: 1000 }),
}).superRefine((c, ctx) => {
  // NTLM names an account as DOMAIN\name or by its userPrincipalName, never by DN
  if (c.passwordHashSync.enabled && /^[a-z][a-z0-9-]*=/i.test(c.activeDirectory.bindAs)) {
    ctx.addIssue({ code: 'custom', path: ['activeDirectory', 'bindAs'], message: 'password hash synchronization authenticates with NTLM, which takes DOMAIN\\name or a userPrincipalName, not a DN: write bindAs in one of those forms' });
  }
});
export type SyncConfig = z.infer<typeof syncSchema>;
export type PasswordHashSyncConfig = z.infer<typeof passwordHashSyncSchema>;

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type ActiveDirectoryConfig = z.infer<typeof activeDirectorySchema>;
