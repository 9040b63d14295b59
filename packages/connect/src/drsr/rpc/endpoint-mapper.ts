/**
 * The endpoint mapper (C706 appendix O, ept_map; MS-RPCE 2.2.1.2.x): asks
 * the DC's port 135 which TCP port serves an interface. Towers are the
 * protocol towers of C706 appendix L: interface, NDR, connection-oriented
 * RPC, TCP port, IPv4 address.
 */
import { ConnectError } from '../../errors.ts';
import { RpcConnection, type RpcTarget } from './connection.ts';
import { NDR20, type SyntaxId, uuidBytes } from './pdu.ts';

export const EPM_PORT = 135;
const EPM: SyntaxId = { uuid: uuidBytes('e1af8308-5d1f-11c9-91a4-08002b14a0fa'), major: 3, minor: 0 };
const EPT_MAP = 3;
const MAX_TOWERS = 4;

const u16 = (n: number, be = false) => {
  const b = Buffer.alloc(2);
  if (be) b.writeUInt16BE(n);
  else b.writeUInt16LE(n);
  return b;
};
const floor = (lhs: Buffer, rhs: Buffer) => Buffer.concat([u16(lhs.length), lhs, u16(rhs.length), rhs]);
const syntaxFloor = (s: SyntaxId) => floor(Buffer.concat([Buffer.from([0x0d]), s.uuid, u16(s.major)]), u16(s.minor));

/** The tower that asks for `iface` over TCP/IP (port and address left 0). */
export function tcpTower(iface: SyntaxId): Buffer {
  const floors = [syntaxFloor(iface), syntaxFloor(NDR20), floor(Buffer.from([0x0b]), u16(0)), floor(Buffer.from([0x07]), u16(0, true)), floor(Buffer.from([0x09]), Buffer.alloc(4))];
  return Buffer.concat([u16(floors.length), ...floors]);
}

/** The TCP port a tower names (floor with protocol id 0x07), if any. */
export function towerPort(tower: Buffer): number | undefined {
  if (tower.length < 2) return undefined;
  const count = tower.readUInt16LE(0);
  let at = 2;
  for (let i = 0; i < count; i++) {
    if (at + 2 > tower.length) return undefined;
    const lhsLength = tower.readUInt16LE(at);
    const lhs = tower.subarray(at + 2, at + 2 + lhsLength);
    at += 2 + lhsLength;
    if (at + 2 > tower.length) return undefined;
    const rhsLength = tower.readUInt16LE(at);
    const rhs = tower.subarray(at + 2, at + 2 + rhsLength);
    at += 2 + rhsLength;
    if (at > tower.length) return undefined;
    if (lhs[0] === 0x07 && rhs.length === 2) return rhs.readUInt16BE(0);
  }
  return undefined;
}

/** NDR stub of ept_map(obj = NULL, map_tower, entry_handle = 0, max_towers). */
export function encodeEptMap(tower: Buffer): Buffer {
  const head = Buffer.alloc(4 + 4 + 4 + 4);
  head.writeUInt32LE(0, 0); // obj: null pointer
  head.writeUInt32LE(0x00020000, 4); // map_tower: referent
  head.writeUInt32LE(tower.length, 8); // twr_t conformance (max count, hoisted)
  head.writeUInt32LE(tower.length, 12); // tower_length
  const pad = Buffer.alloc((4 - (tower.length % 4)) % 4);
  const tail = Buffer.alloc(20 + 4); // entry_handle (context handle), max_towers
  tail.writeUInt32LE(MAX_TOWERS, 20);
  return Buffer.concat([head, tower, pad, tail]);
}

/** Reads ept_map's answer: the towers and the status. */
export function decodeEptMap(stub: Buffer): { status: number; towers: Buffer[] } {
  const bad = (what: string) => new ConnectError('drsr_protocol_error', `the endpoint mapper's answer is malformed (${what})`);
  let at = 20; // entry_handle
  const read32 = () => {
    if (at + 4 > stub.length) throw bad('truncated');
    const v = stub.readUInt32LE(at);
    at += 4;
    return v;
  };
  const numTowers = read32();
  const max = read32();
  const offset = read32();
  const actual = read32();
  if (actual > max || offset !== 0 || actual !== numTowers || actual > MAX_TOWERS) throw bad(`tower counts ${numTowers}/${max}/${actual}`);
  const referents: number[] = [];
  for (let i = 0; i < actual; i++) referents.push(read32());
  const towers: Buffer[] = [];
  for (const ref of referents) {
    if (ref === 0) continue;
    const conformance = read32();
    const length = read32();
    if (length > conformance || at + length > stub.length) throw bad('tower length');
    towers.push(stub.subarray(at, at + length));
    at += length + ((4 - (length % 4)) % 4);
  }
  return { towers, status: read32() };
}

/** Asks the DC's endpoint mapper for the TCP port of `iface`. */
export async function lookupTcpPort(target: Omit<RpcTarget, 'port'> & { epmPort?: number }, iface: SyntaxId, name: string): Promise<number> {
  const conn = await RpcConnection.connect({ ...target, port: target.epmPort ?? EPM_PORT });
  try {
    await conn.bind(EPM);
    const { status, towers } = decodeEptMap(await conn.call(EPT_MAP, encodeEptMap(tcpTower(iface))));
    const port = towers.map(towerPort).find((p) => p !== undefined && p > 0);
    if (status !== 0 || port === undefined) {
      throw new ConnectError('drsr_protocol_error', `the endpoint mapper on ${target.host} knows no TCP endpoint for ${name}${status ? ` (status 0x${status.toString(16)})` : ''}`, {
        fix: 'check that the server is a domain controller (the directory replication service registers this interface)',
      });
    }
    return port;
  } finally {
    conn.close();
  }
}
