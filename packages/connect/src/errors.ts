/**
 * Stable error codes of Skybridge Connect. Every error the agent reports
 * carries one of these, the object or setting it concerns, and the fix.
 */
export const connectErrorCodes = [
  // configuration
  'config_not_found',
  'config_invalid',
  'secret_file_insecure',
  'secret_file_unreadable',
  // reaching Active Directory
  'ad_unreachable',
  'ad_tls_untrusted',
  'ad_tls_failed',
  'ad_bind_failed',
  'ad_missing_rights',
  'ad_connection_lost',
  'ad_timeout',
  'ad_protocol_error',
  'ad_container_not_found',
  // what Active Directory sent
  'ad_invalid_value',
  // change tracking
  'change_state_invalid',
  // the connector space
  'connector_space_locked',
  'connector_space_invalid',
  // pass-through authentication
  'pta_bad_request',
  'pta_bad_credential',
  // password hash sync over MS-DRSR (NTLM, DCE/RPC, DRSUAPI)
  'drsr_auth_failed',
  'drsr_integrity_failed',
  'drsr_protocol_error',
  'drsr_malformed_reply',
  'drsr_unsupported_reply',
  'drsr_rpc_fault',
  'drsr_secret_invalid',
  // synchronization to the cloud
  'sync_not_registered',
  'sync_delete_threshold',
  'sync_lease_lost',
  'sync_cloud_unavailable',
  'sync_cloud_refused',
] as const;

export type ConnectErrorCode = (typeof connectErrorCodes)[number];

export class ConnectError extends Error {
  readonly code: ConnectErrorCode;
  /** What the administrator should do. */
  readonly fix: string | undefined;
  /** The setting (config key) or directory object (DN) concerned. */
  readonly subject: string | undefined;

  constructor(code: ConnectErrorCode, message: string, options: { fix?: string; subject?: string; cause?: unknown } = {}) {
    super(options.fix ? `${message}. Fix: ${options.fix}` : message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectError';
    this.code = code;
    this.fix = options.fix;
    this.subject = options.subject;
  }
}
