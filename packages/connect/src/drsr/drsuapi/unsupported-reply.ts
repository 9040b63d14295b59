/**
 * The error for a reply version the agent does not read (the union arm of
 * pmsgOut that pdwOutVersion selects, MS-DRSR 4.1): not malformed, only
 * not one the agent asked for and understands.
 */
import { ConnectError } from '../../errors.ts';

export function unsupportedReply(call: string, version: number): ConnectError {
  return new ConnectError('drsr_unsupported_reply', `The domain controller answered ${call} with a version ${version} reply, which the agent does not read`, {
    fix: "report the domain controller's Windows version; the agent asks for the reply versions every supported Windows Server sends",
  });
}
