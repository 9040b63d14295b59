/**
 * The agent's side of pass-through authentication: decrypt the password the
 * cloud encrypted to this agent's key, bind to Active Directory as the user,
 * answer the outcome. The password lives only in this call's memory; it is
 * never logged, cached or written anywhere.
 */
import { compactDecrypt, importJWK, type JWK } from 'jose';
import { outcomeOfDataCode, passThroughRequest, type PassThroughResponse } from '@skybridge/protocol';
import type { ActiveDirectoryConfig } from '../config/agent-config.ts';
import { ConnectError } from '../errors.ts';
import { BindPool } from './bind-pool.ts';

export class PassThroughAuthenticator {
  readonly #binds: BindPool;
  readonly #key: ReturnType<typeof importJWK>;

  constructor(config: ActiveDirectoryConfig, privateJwk: Record<string, unknown>) {
    this.#binds = new BindPool(config);
    // the agent's registered key: ES256 for its client assertions, ECDH-ES for what the cloud encrypts to it
    const { alg: _alg, use: _use, key_ops: _ops, ...bare } = privateJwk;
    this.#key = importJWK(bare as JWK, 'ECDH-ES+A256KW');
  }

  async handle(payload: unknown): Promise<PassThroughResponse> {
    const request = passThroughRequest.safeParse(payload);
    if (!request.success) throw new ConnectError('pta_bad_request', 'the pass-through request is malformed', { subject: 'passThroughAuthentication' });
    let password: string;
    try {
      const { plaintext, protectedHeader } = await compactDecrypt(request.data.credential, await this.#key, { keyManagementAlgorithms: ['ECDH-ES+A256KW'], contentEncryptionAlgorithms: ['A256GCM'] });
      if (protectedHeader.upn !== request.data.userPrincipalName) throw new Error('the credential was encrypted for another user');
      password = new TextDecoder().decode(plaintext);
    } catch {
      throw new ConnectError('pta_bad_credential', 'the encrypted credential could not be read with this agent\'s key', { subject: 'passThroughAuthentication' });
    }
    const result = await this.#binds.check(request.data.userPrincipalName, password);
    return result.ok ? { outcome: 'success' } : { outcome: outcomeOfDataCode(result.dataCode), dataCode: result.dataCode };
  }

  /** Closes the kept connections to the DCs. */
  close(): void {
    this.#binds.close();
  }
}
