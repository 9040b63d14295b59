/**
 * A DRSUAPI client (MS-DRSR) over an NTLM-sealed DCE/RPC association: the
 * endpoint mapper gives the port, DRSBind (advertising strong encryption)
 * gives the handle, then DRSCrackNames and DRSGetNCChanges — one object
 * (EXOP_REPL_OBJ or EXOP_REPL_SECRET) or a whole naming context from a USN
 * watermark. Every call is over the network, as an unprivileged process.
 */
import { randomUUID } from 'node:crypto';
import { ConnectError } from '../errors.ts';
import { NtlmClient, type NtlmCredentials } from './ntlm/client.ts';
import { RpcConnection } from './rpc/connection.ts';
import { lookupTcpPort } from './rpc/endpoint-mapper.ts';
import { uuidBytes, type SyntaxId } from './rpc/pdu.ts';
import { decodeDrsBindResponse, encodeDrsBindRequest, type DrsExtensions } from './drsuapi/bind.ts';
import { decodeDrsUnbindResponse, encodeDrsUnbindRequest } from './drsuapi/unbind.ts';
import { decodeDrsCrackNamesResponse, encodeDrsCrackNamesRequest, type CrackedName } from './drsuapi/crack-names.ts';
import { decodeDrsGetNcChangesResponse, encodeDrsGetNcChangesRequest, type GetNcChangesReply, type ReplicatedObject } from './drsuapi/get-nc-changes.ts';
import {
  DRSUAPI_INTERFACE_UUID, DRSUAPI_INTERFACE_VERSION, DRS_EXT_BASE, DRS_EXT_GETCHGREPLY_V6, DRS_EXT_GETCHGREQ_V8, DRS_EXT_STRONG_ENCRYPTION,
  DRS_EXT_RESTORE_USN_OPTIMIZATION, DRS_EXT_INSTANCE_TYPE_NOT_REQ_ON_MOD, DRS_EXT_LINKED_VALUE_REPLICATION, DRS_EXT_GETCHGREQ_V5, DRS_EXT_GETCHGREQ_V6,
  DRS_EXT_POST_BETA3, DRS_EXT_ADDENTRY_V2, DRS_EXT_ASYNCREPL,
  DRS_INIT_SYNC, DRS_WRIT_REP, EXOP_REPL_OBJ, EXOP_REPL_SECRET, EXOP_ERR_SUCCESS, NTDSAPI_CLIENT_GUID, OPNUM_DRS_BIND, OPNUM_DRS_CRACK_NAMES,
  OPNUM_DRS_GET_NC_CHANGES, OPNUM_DRS_UNBIND,
} from './drsuapi/constants.ts';
import { guidFromString, nullGuid } from './ndr/guid.ts';
import { PrefixTable } from './drsuapi/prefix-table.ts';
import type { UsnVector } from './drsuapi/structures.ts';

const DRSUAPI: SyntaxId = { uuid: uuidBytes(DRSUAPI_INTERFACE_UUID), major: DRSUAPI_INTERFACE_VERSION.major, minor: DRSUAPI_INTERFACE_VERSION.minor };

/** What the agent tells the DC it speaks: version 8 requests, version 6 replies, and strong encryption of secrets. */
const CLIENT_EXTENSIONS = (DRS_EXT_BASE | DRS_EXT_ASYNCREPL | DRS_EXT_RESTORE_USN_OPTIMIZATION | DRS_EXT_INSTANCE_TYPE_NOT_REQ_ON_MOD | DRS_EXT_ADDENTRY_V2
  | DRS_EXT_LINKED_VALUE_REPLICATION | DRS_EXT_STRONG_ENCRYPTION | DRS_EXT_POST_BETA3 | DRS_EXT_GETCHGREQ_V5 | DRS_EXT_GETCHGREQ_V6 | DRS_EXT_GETCHGREQ_V8
  | DRS_EXT_GETCHGREPLY_V6) >>> 0;

/** ERROR_DS_DRA_ACCESS_DENIED and ERROR_ACCESS_DENIED: the account lacks a replication right. */
const ACCESS_DENIED = new Set([0x2105, 5]);
/**
 * ERROR_DS_DRA_BAD_DN: the DC knows no object by the GUID (or DN) asked
 * for, e.g. a user deleted since the import listed it. It concerns that
 * object only, so it must not read as a protocol error of the connection.
 */
const ERROR_DS_DRA_BAD_DN = 0x20f7;
/** ERROR_DS_DRA_SOURCE_DISABLED: what Samba answers EXOP_REPL_SECRET from an account that is not a read-only DC's. */
const ERROR_DS_DRA_SOURCE_DISABLED = 0x2103;

export const replicationRightsFix =
  'grant the connector account "Replicating Directory Changes" and "Replicating Directory Changes All" on the domain root (skybridge connect prepare-ad, or dsacls "<domain DN>" /G "<account>:CA;Replicating Directory Changes All")';

export interface DrsConnectOptions {
  host: string;
  credentials: NtlmCredentials;
  timeoutMs?: number;
  /** The endpoint mapper's port (135), for tests through a proxy. */
  epmPort?: number;
  /** Use this DRSUAPI port instead of asking the endpoint mapper. */
  port?: number;
}

export interface ObjectTarget {
  guid?: Buffer;
  dn?: string;
}

export class DrsClient {
  readonly #rpc: RpcConnection;
  readonly #handle: Buffer;
  readonly serverExtensions: DrsExtensions | null;
  /** Our identity as a replication client (uuidDsaObjDest), one per connection. */
  readonly #clientGuid = guidFromString(randomUUID());
  #closed = false;
  /**
   * How long a GetNCChanges answer may take: the configured timeout when
   * one was given (a stalled DC must fail within it, not after two
   * minutes), else two minutes, since a DC may take long to build a page.
   */
  readonly #getNcChangesTimeoutMs: number;
  /**
   * The DC's own prefix table (with its schemaInfo entry), learnt from its
   * first reply: a partial attribute set is sent under it, since Samba
   * refuses one whose table lacks the schema signature.
   */
  #serverTable: PrefixTable | undefined;

  private constructor(rpc: RpcConnection, handle: Buffer, serverExtensions: DrsExtensions | null, getNcChangesTimeoutMs: number) {
    this.#rpc = rpc;
    this.#handle = handle;
    this.serverExtensions = serverExtensions;
    this.#getNcChangesTimeoutMs = getNcChangesTimeoutMs;
  }

  static async connect(options: DrsConnectOptions): Promise<DrsClient> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const port = options.port ?? await lookupTcpPort({ host: options.host, timeoutMs, ...(options.epmPort ? { epmPort: options.epmPort } : {}) }, DRSUAPI, 'directory replication (DRSUAPI)');
    const rpc = await RpcConnection.connect({ host: options.host, port, timeoutMs });
    try {
      await rpc.bind(DRSUAPI, new NtlmClient(options.credentials));
      const reply = decodeDrsBindResponse(await rpc.call(OPNUM_DRS_BIND, encodeDrsBindRequest({
        clientDsaGuid: guidFromString(NTDSAPI_CLIENT_GUID),
        extensions: { dwFlags: CLIENT_EXTENSIONS },
      })));
      if (reply.status !== 0) {
        throw new ConnectError(ACCESS_DENIED.has(reply.status) ? 'ad_missing_rights' : 'drsr_protocol_error', `the domain controller ${options.host} refused DRSBind (error 0x${reply.status.toString(16)})`, ACCESS_DENIED.has(reply.status) ? { fix: replicationRightsFix } : {});
      }
      const flags = reply.serverExtensions?.dwFlags ?? 0;
      if (!(flags & DRS_EXT_STRONG_ENCRYPTION)) {
        throw new ConnectError('drsr_protocol_error', `the domain controller ${options.host} does not offer strong encryption of secrets (DRS_EXT_STRONG_ENCRYPTION)`, { fix: 'use a domain controller running Windows Server 2003 or later, or Samba 4' });
      }
      if (!(flags & DRS_EXT_GETCHGREQ_V8)) {
        throw new ConnectError('drsr_protocol_error', `the domain controller ${options.host} does not take version 8 replication requests`, { fix: 'use a domain controller running Windows Server 2003 or later, or Samba 4' });
      }
      return new DrsClient(rpc, reply.handle, reply.serverExtensions, options.timeoutMs ?? 120_000);
    } catch (err) {
      rpc.close();
      throw err;
    }
  }

  /** The key that protects secrets in replies (the RPC association's session key). */
  get sessionKey(): Buffer {
    return this.#rpc.sessionKey!;
  }

  async crackNames(formatOffered: number, formatDesired: number, names: string[]): Promise<CrackedName[]> {
    const r = decodeDrsCrackNamesResponse(await this.#rpc.call(OPNUM_DRS_CRACK_NAMES, encodeDrsCrackNamesRequest(this.#handle, { formatOffered, formatDesired, names })));
    if (r.status !== 0) throw new ConnectError('drsr_protocol_error', `DRSCrackNames failed (error 0x${r.status.toString(16)})`);
    return r.items;
  }

  /**
   * One object with the attributes asked for (by OID), secrets included:
   * EXOP_REPL_OBJ (what tools proven on Windows use) or EXOP_REPL_SECRET
   * (the read-only DC path). `subject` names the object in errors.
   */
  async readObject(target: ObjectTarget, attributes: readonly string[], subject: string, exop: 'object' | 'secret' = 'object'): Promise<ReplicatedObject> {
    const reply = await this.#getNcChanges({
      uuidDsaObjDest: this.#clientGuid,
      uuidInvocIdSrc: nullGuid(),
      nc: { guid: target.guid ?? null, dn: target.dn ?? null },
      ulFlags: DRS_INIT_SYNC | DRS_WRIT_REP,
      cMaxObjects: 1,
      cMaxBytes: 0,
      ulExtendedOp: exop === 'object' ? EXOP_REPL_OBJ : EXOP_REPL_SECRET,
      ...this.#attributeSet(attributes),
    }, subject);
    if (reply.ulExtendedRet !== EXOP_ERR_SUCCESS) {
      throw new ConnectError(reply.ulExtendedRet === 0x0000000e ? 'ad_container_not_found' : 'drsr_protocol_error', `the domain controller did not replicate ${subject} (extended operation result ${reply.ulExtendedRet})`, { subject });
    }
    const object = reply.objects[0];
    if (!object) throw new ConnectError('drsr_malformed_reply', `the domain controller replicated no object for ${subject}`, { subject });
    return object;
  }

  /**
   * One page of a naming context's changes after a watermark (a normal
   * replication request, no extended operation). Call again with the
   * reply's usnvecTo while fMoreData. The first call of a connection learns
   * the DC's prefix table from one object, so that pages carry only the
   * attributes asked for.
   */
  async changesAfter(nc: ObjectTarget & { dn: string }, usnvecFrom: UsnVector, attributes: readonly string[], options: { maxObjects?: number; flags?: number; /** the DC database the watermark belongs to (a previous reply's uuidInvocIdSrc) */ invocationId?: Buffer } = {}): Promise<GetNcChangesReply> {
    if (!this.#serverTable) await this.readObject(nc, attributes, nc.dn);
    return this.#getNcChanges({
      uuidDsaObjDest: this.#clientGuid,
      // the DC's invocation id (NULL: "yours"): with any other, a DC reads the watermark as
      // belonging to another database and starts from zero — every page would be the first
      uuidInvocIdSrc: options.invocationId ?? nullGuid(),
      nc: { guid: nc.guid ?? null, dn: nc.dn },
      usnvecFrom,
      ulFlags: options.flags ?? (DRS_INIT_SYNC | DRS_WRIT_REP),
      cMaxObjects: options.maxObjects ?? 1000,
      cMaxBytes: 0,
      ...this.#attributeSet(attributes),
    }, nc.dn);
  }

  /** The partial attribute set under the DC's prefix table, once known (before: every attribute). */
  #attributeSet(attributes: readonly string[]): { partialAttrSet?: number[]; prefixTableDest?: PrefixTable } {
    const table = this.#serverTable;
    if (!table) return {};
    const attrTyps = attributes.map((oid) => table.tryAttrTypOf(oid));
    // an attribute the DC's table does not name cannot be asked for by ATTRTYP: ask for everything
    if (attrTyps.some((a) => a === undefined)) return {};
    return { partialAttrSet: [...new Set(attrTyps as number[])].sort((a, b) => a - b), prefixTableDest: table };
  }

  async #getNcChanges(request: Parameters<typeof encodeDrsGetNcChangesRequest>[1], subject: string): Promise<GetNcChangesReply> {
    const { reply, status } = decodeDrsGetNcChangesResponse(await this.#rpc.call(OPNUM_DRS_GET_NC_CHANGES, encodeDrsGetNcChangesRequest(this.#handle, request), { timeoutMs: this.#getNcChangesTimeoutMs }));
    if (status === 0 && reply.prefixTableSrc.size > 0) this.#serverTable ??= reply.prefixTableSrc;
    if (status !== 0 || reply.dwDRSError !== 0) {
      const code = status || reply.dwDRSError;
      if (ACCESS_DENIED.has(code)) {
        throw new ConnectError('ad_missing_rights', `the domain controller refused to replicate ${subject}: the connector account lacks "Replicating Directory Changes All" (or "Replicating Directory Changes")`, { subject, fix: replicationRightsFix });
      }
      if (code === ERROR_DS_DRA_SOURCE_DISABLED && request.ulExtendedOp === EXOP_REPL_SECRET) {
        throw new ConnectError('ad_missing_rights', `the domain controller refused the read-only-DC secret operation (EXOP_REPL_SECRET) for ${subject}: it serves it to read-only domain controllers' accounts only`, {
          subject, fix: 'read secrets with EXOP_REPL_OBJ and "Replicating Directory Changes All" (the default), or run the agent with a read-only DC\'s account',
        });
      }
      if (code === ERROR_DS_DRA_BAD_DN) {
        throw new ConnectError('ad_container_not_found', `the domain controller does not know ${subject} (error 0x${code.toString(16)}, ERROR_DS_DRA_BAD_DN: deleted, or not yet replicated to it)`, { subject });
      }
      throw new ConnectError('drsr_protocol_error', `DRSGetNCChanges for ${subject} failed (error 0x${code.toString(16)})`, { subject });
    }
    return reply;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      decodeDrsUnbindResponse(await this.#rpc.call(OPNUM_DRS_UNBIND, encodeDrsUnbindRequest(this.#handle), { timeoutMs: 5000 }));
    } catch {
      // the association ends below either way
    } finally {
      this.#rpc.close();
    }
  }
}
