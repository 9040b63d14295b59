/** LDAP failures as ConnectErrors: what was being done, the object or setting, and the fix. */
import { InsufficientAccessError, NoSuchObjectError, ResultCodeError, UnavailableCriticalExtensionError } from 'ldapts';
import { ConnectError } from '../errors.ts';

export function ldapError(err: unknown, context: { what: string; subject: string }): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = err as Error & { code?: number | string };
  const message = e?.message ?? String(err);
  if (err instanceof InsufficientAccessError || /insufficient ?access|INSUFF_ACCESS_RIGHTS/i.test(message)) {
    return new ConnectError('ad_missing_rights', `${context.what}: the connector account lacks the right (${message})`, {
      subject: context.subject, cause: err,
      fix: 'grant the connector account read access there (and "Replicating Directory Changes" on the domain root for DirSync), e.g. with skybridge connect prepare-ad',
    });
  }
  if (err instanceof NoSuchObjectError) {
    return new ConnectError('ad_container_not_found', `${context.what}: ${context.subject} does not exist on the domain controller`, {
      subject: context.subject, cause: err, fix: 'correct the DN in activeDirectory.containers or excludedContainers',
    });
  }
  if (err instanceof UnavailableCriticalExtensionError) {
    return new ConnectError('ad_protocol_error', `${context.what}: the domain controller does not support a control the connector needs (${message})`, {
      subject: context.subject, cause: err, fix: 'point the connector at an Active Directory domain controller (Windows Server or Samba 4)',
    });
  }
  if (/timed out|timeout/i.test(message)) {
    return new ConnectError('ad_timeout', `${context.what}: the domain controller did not answer in time`, {
      subject: context.subject, cause: err, fix: 'raise activeDirectory.operationTimeoutSeconds, lower pageSize, or check the DC\'s load',
    });
  }
  if (/Socket error|Connection closed|socket connection not established|ECONNRESET|EPIPE|socket hang up/i.test(message)) {
    return new ConnectError('ad_connection_lost', `${context.what}: the connection to the domain controller was lost (${message.split('\n').pop()})`, {
      subject: context.subject, cause: err, fix: 'nothing to do if it was a network blip: the next run resumes; otherwise check the network path to the DC',
    });
  }
  if (err instanceof ResultCodeError) {
    return new ConnectError('ad_protocol_error', `${context.what}: the domain controller answered ${e.name} (${message})`, {
      subject: context.subject, cause: err, fix: 'see the DC\'s message above; if it persists, run the import with SKYBRIDGE_DEBUG=1 and report it',
    });
  }
  return new ConnectError('ad_protocol_error', `${context.what}: ${message}`, { subject: context.subject, cause: err, fix: 'run with SKYBRIDGE_DEBUG=1 for details' });
}
