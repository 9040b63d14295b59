/**
 * The NDR 2.0 writer and reader (C706 chapter 14): alignment, referent ids
 * and the deferral order of embedded pointers, conformant arrays and
 * strings, and a reader that refuses short and inconsistent input with
 * drsr_malformed_reply. GUID text against impacket's string_to_bin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ConnectError } from '../../src/errors.ts';
import { NdrWriter, FIRST_REFERENT_ID } from '../../src/drsr/ndr/ndr-writer.ts';
import { NdrReader } from '../../src/drsr/ndr/ndr-reader.ts';
import { guidFromString, guidToString, isNullGuid, nullGuid } from '../../src/drsr/ndr/guid.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const malformed = (e: unknown) => e instanceof ConnectError && e.code === 'drsr_malformed_reply';

test('primitives are aligned to their size; the gaps are zero and remembered', () => {
  const w = new NdrWriter();
  w.u8(1).u32(0x02030405).u8(6).u16(0x0708).i64(-2n).u8(9).guid(Buffer.alloc(16, 0xee)).u64(0x1122334455667788n);
  assert.equal(hex(w.finish()), '01000000' + '05040302' + '06' + '00' + '0807' + '00000000' + 'feffffffffffffff' + '09000000' + 'ee'.repeat(16) + '00000000' + '8877665544332211');
  assert.deepEqual(w.gaps, [[1, 4], [9, 10], [12, 16], [25, 28], [44, 48]]);
  assert.throws(() => new NdrWriter().u32(-1), RangeError);
  assert.throws(() => new NdrWriter().u16(0x10000), RangeError);
  assert.throws(() => new NdrWriter().guid(Buffer.alloc(15)), RangeError);
  assert.throws(() => new NdrWriter().contextHandle(Buffer.alloc(16)), RangeError);
  const r = new NdrReader(w.finish(), 'test');
  assert.deepEqual([r.u8('a'), r.u32('b'), r.u8('c'), r.u16('d'), r.i64('e'), r.u8('f'), hex(r.guid('g')), r.u64('h')], [1, 0x02030405, 6, 0x0708, -2n, 9, 'ee'.repeat(16), 0x1122334455667788n]);
  assert.equal(r.remaining, 0);
});

test('embedded pointees are deferred to after the top-level construct, depth first (C706 14.3.12.3)', () => {
  // struct { long a; T* p1; long* p2; } where T is struct { short s; long* q; }
  const w = new NdrWriter();
  w.topLevel(() => {
    w.u32(0xa);
    w.pointer({ s: 0x5, q: 0x77 }, (w, t) => {
      w.u16(t.s);
      w.pointer(t.q, (w, v) => w.u32(v));
    });
    w.pointer(0x99, (w, v) => w.u32(v));
    w.pointer(null, () => assert.fail('NULL has no pointee'));
  });
  w.u32(0xff); // the next parameter
  const id = (n: number) => hex(Buffer.from([0, 0, 2, 0].map((b, i) => (i === 0 ? n * 4 : b))));
  assert.equal(FIRST_REFERENT_ID, 0x20000);
  assert.equal(
    hex(w.finish()),
    '0a000000' + id(0) + id(1) + '00000000' + // the structure: a, p1, p2, a NULL pointer
      '0500' + '0000' + id(2) + // *p1 (s, gap, q)
      '77000000' + // *q: the pointee of *p1 comes before *p2
      '99000000' + // *p2
      'ff000000',
  );
  assert.deepEqual(w.referentOffsets, [4, 8, 20]);

  const r = new NdrReader(w.finish(), 'test');
  const got: unknown[] = [];
  r.topLevel(() => {
    got.push(r.u32('a'));
    r.pointer('p1', () => {
      got.push(r.u16('s'));
      r.pointer('q', () => got.push(r.u32('*q')));
    });
    r.pointer('p2', () => got.push(r.u32('*p2')));
    assert.equal(r.pointer('p3', () => assert.fail('NULL')), false);
  });
  got.push(r.u32('next'));
  assert.deepEqual(got, [0xa, 5, 0x77, 0x99, 0xff]);
});

test('a top-level unique pointer is its referent id and then its pointee at once', () => {
  const w = new NdrWriter();
  w.topLevelPointer(Buffer.alloc(16, 1), (w, g) => w.guid(g));
  w.topLevelPointer(null, () => assert.fail('NULL'));
  w.u32(7);
  assert.equal(hex(w.finish()), '00000200' + '01'.repeat(16) + '00000000' + '07000000');
  assert.throws(() => new NdrWriter().pointer(1, () => {}), /outside NdrWriter.topLevel/);
});

test('conformant varying strings of wchar_t: maximum count, offset, actual count, characters and NUL', () => {
  const w = new NdrWriter();
  w.u8(1).wideString('Zoë');
  assert.equal(hex(w.finish()), '01000000' + '04000000' + '00000000' + '04000000' + '5a006f00eb000000');
  const r = new NdrReader(w.finish(), 'test');
  r.u8('x');
  assert.equal(r.wideString('name'), 'Zoë');
  const bad = (max: number, offset: number, actual: number, body = '') =>
    new NdrReader(Buffer.from(hex(Buffer.from(new Uint32Array([max, offset, actual]).buffer)) + body, 'hex'), 'test');
  assert.throws(() => bad(4, 1, 3, '41004200430000').wideString('s'), (e: unknown) => malformed(e) && /offset 1/.test((e as Error).message));
  assert.throws(() => bad(2, 0, 3, '410042004300').wideString('s'), (e: unknown) => malformed(e) && /more than its maximum count/.test((e as Error).message));
  assert.throws(() => bad(0x7fffffff, 0, 0x7fffffff).wideString('s'), malformed);
});

test('the reader refuses what is short or absurd, naming the field, and allocates nothing for a huge count', () => {
  const r = new NdrReader(Buffer.from('0100000002', 'hex'), 'IDL_DRSTest reply');
  assert.equal(r.u32('first'), 1);
  assert.throws(() => r.u32('second'), (e: unknown) => malformed(e) && /IDL_DRSTest reply is malformed: second at offset 4 runs past the end of the 5-byte stub/.test((e as Error).message));
  for (const n of [0, 1, 3, 7]) {
    assert.throws(() => new NdrReader(Buffer.alloc(n), 't').i64('x'), malformed);
    assert.throws(() => new NdrReader(Buffer.alloc(n), 't').guid('x'), malformed);
    assert.throws(() => new NdrReader(Buffer.alloc(n), 't').contextHandle('x'), malformed);
  }
  const huge = new NdrReader(Buffer.from('ffffff7f' + '00'.repeat(64), 'hex'), 't');
  assert.throws(() => huge.conformance(1, 'array'), (e: unknown) => malformed(e) && /2147483647, more than the 64 bytes left/.test((e as Error).message));
  assert.throws(() => new NdrReader(Buffer.from('05000000' + '00'.repeat(64), 'hex'), 't').conformance(1, 'array', 4), (e: unknown) => malformed(e) && /more than the 4 its type allows/.test((e as Error).message));
  assert.throws(() => new NdrReader(Buffer.from('0100000000', 'hex'), 't').pointer('p', () => {}), /outside NdrReader.topLevel/);
  // a pointee that is not there
  const r2 = new NdrReader(Buffer.from('04000200', 'hex'), 't');
  assert.throws(() => r2.topLevel(() => r2.pointer('p', () => r2.u32('*p'))), malformed);
});

test('a linked list of 100000 nodes is written and read without recursion', () => {
  const count = 100000;
  const w = new NdrWriter();
  const node = (i: number) => (w: NdrWriter) => {
    w.pointer(i + 1 < count ? i + 1 : null, (w, n) => node(n)(w));
    w.u32(i);
    w.pointer(i, (w, v) => w.u32(v ^ 0xffff));
  };
  w.topLevel(() => w.pointer(0, (w) => node(0)(w)));
  const stub = w.finish();
  const r = new NdrReader(stub, 'test');
  const values: number[] = [];
  const extra: number[] = [];
  const readNode = () => {
    r.pointer('next', readNode);
    values.push(r.u32('value'));
    r.pointer('extra', () => extra.push(r.u32('extra')));
  };
  r.topLevel(() => r.pointer('head', readNode));
  assert.equal(values.length, count);
  assert.equal(values[count - 1], count - 1);
  // NDR order: every node's fixed part, then the pointees from the last node back
  assert.equal(extra[0], (count - 1) ^ 0xffff);
  assert.equal(extra[count - 1], 0 ^ 0xffff);
  assert.equal(r.remaining, 0);
});

test('GUIDs: the string form and the wire bytes, as impacket converts them', () => {
  const text = 'e24d201a-4fd6-11d1-a3da-0000f875ae0d';
  const theirs = execFileSync('/usr/bin/python3', ['-c', `from impacket.uuid import string_to_bin; print(string_to_bin('${text}').hex())`], { encoding: 'utf8' }).trim();
  assert.equal(hex(guidFromString(text)), theirs);
  assert.equal(guidToString(guidFromString(`{${text.toUpperCase()}}`)), text);
  assert.ok(isNullGuid(nullGuid()));
  assert.ok(!isNullGuid(guidFromString(text)));
  assert.throws(() => guidFromString('e24d201a-4fd6-11d1-a3da'), TypeError);
  assert.throws(() => guidToString(Buffer.alloc(15)), RangeError);
});
