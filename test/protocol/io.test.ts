import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, Writer, ProtocolError, ZERO_UUID } from '../../src/core/protocol/io.js';

const bytes = (w: Writer) => w.toBuffer();
const hex = (w: Writer) => w.toBuffer().toString('hex');

test('fixed-width integers round trip at their limits', () => {
  const w = new Writer(4); // tiny scratch: forces growth
  const i8 = [-128, -1, 0, 1, 127];
  const i16 = [-32768, -1, 0, 255, 32767];
  const u16 = [0, 1, 65535];
  const i32 = [-2147483648, -1, 0, 1, 2147483647];
  const u32 = [0, 1, 4294967295];
  const i64 = [-1, 0, 1, -2, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53) + 1, 1700000000123];
  for (const x of i8) w.int8(x);
  for (const x of i16) w.int16(x);
  for (const x of u16) w.uint16(x);
  for (const x of i32) w.int32(x);
  for (const x of u32) w.uint32(x);
  for (const x of i64) w.int64(x);
  w.float64(0.1).float64(-1e300).bool(true).bool(false);
  const r = new Reader(bytes(w));
  for (const x of i8) assert.equal(r.int8(), x);
  for (const x of i16) assert.equal(r.int16(), x);
  for (const x of u16) assert.equal(r.uint16(), x);
  for (const x of i32) assert.equal(r.int32(), x);
  for (const x of u32) assert.equal(r.uint32(), x);
  for (const x of i64) assert.equal(r.int64(), x);
  assert.equal(r.float64(), 0.1);
  assert.equal(r.float64(), -1e300);
  assert.equal(r.bool(), true);
  assert.equal(r.bool(), false);
  assert.equal(r.remaining(), 0);
});

test('int64 matches Buffer big-endian encoding, clamps past the int64 range', () => {
  for (const x of [-1, 0, 123456789012345, -123456789012345, 2 ** 53 - 1]) {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(x));
    assert.equal(hex(new Writer().int64(x)), b.toString('hex'), String(x));
  }
  assert.equal(hex(new Writer().int64(2 ** 63)), '7fffffffffffffff');
  assert.equal(hex(new Writer().int64(-(2 ** 64))), '8000000000000000');
  assert.equal(new Reader(Buffer.from('7fffffffffffffff', 'hex')).int64(), 2 ** 63);
});

test('varints: known encodings and edge cases', () => {
  const uv: [number, string][] = [
    [0, '00'], [1, '01'], [127, '7f'], [128, '8001'], [300, 'ac02'], [16383, 'ff7f'], [16384, '808001'],
    [2 ** 31 - 1, 'ffffffff07'], [2 ** 32 - 1, 'ffffffff0f'],
  ];
  for (const [n, h] of uv) {
    assert.equal(hex(new Writer().unsignedVarint(n)), h, `uvarint ${n}`);
    assert.equal(new Reader(Buffer.from(h, 'hex')).unsignedVarint(), n);
  }
  const sv: [number, string][] = [[0, '00'], [-1, '01'], [1, '02'], [-64, '7f'], [64, '8001'], [2147483647, 'feffffff0f'], [-2147483648, 'ffffffff0f']];
  for (const [n, h] of sv) {
    assert.equal(hex(new Writer().varint(n)), h, `varint ${n}`);
    assert.equal(new Reader(Buffer.from(h, 'hex')).varint(), n);
  }
  const lv = [0, -1, 1, 63, -64, 64, 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 5, -(2 ** 50), 2 ** 52 - 1, -(2 ** 52 - 1), 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 52, -(2 ** 52)];
  for (const n of lv) {
    const w = new Writer().varlong(n);
    assert.equal(new Reader(bytes(w)).varlong(), n, `varlong ${n}`);
  }
  assert.equal(hex(new Writer().varlong(-1)), '01');
  assert.equal(hex(new Writer().varlong(2 ** 32)), '8080808020');
  // int64 extremes match Java's zig-zag encoding; numbers past 2^53 come back rounded
  assert.equal(hex(new Writer().varlong(2 ** 63)), 'feffffffffffffffff01');
  assert.equal(hex(new Writer().varlong(-(2 ** 63))), 'ffffffffffffffffff01');
  assert.equal(new Reader(Buffer.from('feffffffffffffffff01', 'hex')).varlong(), 2 ** 63);
  assert.equal(new Reader(Buffer.from('ffffffffffffffffff01', 'hex')).varlong(), -(2 ** 63));
  // a 6-byte uvarint, and truncated ones
  assert.throws(() => new Reader(Buffer.from('ffffffffff01', 'hex')).unsignedVarint(), ProtocolError);
  assert.throws(() => new Reader(Buffer.from('80', 'hex')).unsignedVarint(), ProtocolError);
  assert.throws(() => new Reader(Buffer.from('ffffffffffffffffffff01', 'hex')).varlong(), ProtocolError);
  assert.throws(() => new Reader(Buffer.from('8080', 'hex')).varlong(), ProtocolError);
});

test('strings and bytes: plain, nullable, compact; views not copies', () => {
  const w = new Writer();
  w.string('héllo').nullableString(null).nullableString('').compactString('ça').compactNullableString(null);
  w.compactNullableString('x');
  const big = Buffer.alloc(1000, 9);
  w.bytes(Buffer.from([1, 2])).nullableBytes(null).compactBytes(big).compactNullableBytes(null).compactNullableBytes(Buffer.alloc(0));
  const buf = bytes(w);
  const r = new Reader(buf);
  assert.equal(r.string(), 'héllo');
  assert.equal(r.nullableString(), null);
  assert.equal(r.nullableString(), '');
  assert.equal(r.compactString(), 'ça');
  assert.equal(r.compactNullableString(), null);
  assert.equal(r.compactNullableString(), 'x');
  assert.deepEqual([...r.bytes()], [1, 2]);
  assert.equal(r.nullableBytes(), null);
  const view = r.compactBytes();
  assert.equal(view.length, 1000);
  assert.equal(view.buffer, buf.buffer, 'bytes are a view of the input');
  assert.equal(r.compactNullableBytes(), null);
  assert.equal(r.compactNullableBytes()!.length, 0);
  assert.equal(r.remaining(), 0);
  // wire forms
  assert.equal(hex(new Writer().nullableString(null)), 'ffff');
  assert.equal(hex(new Writer().compactNullableString(null)), '00');
  assert.equal(hex(new Writer().compactString('')), '01');
  assert.equal(hex(new Writer().nullableBytes(null)), 'ffffffff');
});

test('uuids print as Kafka prints them', () => {
  const w = new Writer().uuid(ZERO_UUID).uuid('AAAAAAAAAAAAAAAAAAAAAQ').uuid('_-_-_-_-_-_-_-_-_-_-_w');
  const buf = bytes(w);
  assert.equal(buf.subarray(0, 16).toString('hex'), '0'.repeat(32));
  assert.equal(buf.subarray(16, 32).toString('hex'), '0'.repeat(30) + '01');
  const r = new Reader(buf);
  assert.equal(r.uuid(), 'AAAAAAAAAAAAAAAAAAAAAA');
  assert.equal(r.uuid(), 'AAAAAAAAAAAAAAAAAAAAAQ');
  assert.equal(r.uuid(), '_-_-_-_-_-_-_-_-_-_-_w');
  assert.throws(() => new Writer().uuid('nope'), /invalid uuid 'nope'/);
});

test('array lengths and tagged fields', () => {
  const w = new Writer().arrayLength(3).arrayLength(-1).compactArrayLength(2).compactArrayLength(-1);
  w.unsignedVarint(2).unsignedVarint(0).unsignedVarint(2).int16(7).unsignedVarint(5).unsignedVarint(0);
  w.int8(42);
  const r = new Reader(Buffer.concat([bytes(w), Buffer.alloc(3)]));
  assert.equal(r.arrayLength(), 3);
  assert.equal(r.arrayLength(true), -1);
  assert.equal(r.compactArrayLength(), 2);
  assert.equal(r.compactArrayLength(true), -1);
  r.skipTaggedFields();
  assert.equal(r.int8(), 42);
  assert.throws(() => new Reader(Buffer.from('ffffffff', 'hex')).arrayLength(false), /invalid array length -1/);
  assert.throws(() => new Reader(Buffer.from('7fffffff00', 'hex')).arrayLength(), /exceeds the 1 bytes left/);
});

test('truncation and negative lengths throw ProtocolError, never RangeError', () => {
  const cases: [string, (r: Reader) => unknown][] = [
    ['', (r) => r.int8()], ['00', (r) => r.int16()], ['000000', (r) => r.int32()], ['00000000000000', (r) => r.int64()],
    ['0000', (r) => r.float64()], ['00', (r) => r.uuid()], ['0005616263', (r) => r.string()], ['fffe', (r) => r.nullableString()],
    ['ffff', (r) => r.string()], ['0000000a00', (r) => r.bytes()], ['fffffffe', (r) => r.nullableBytes()],
    ['05', (r) => r.compactString()], ['00', (r) => r.compactString()], ['00', (r) => r.compactBytes()],
    ['0a', (r) => r.compactNullableBytes()], ['02', (r) => r.skipTaggedFields()], ['010005', (r) => r.skipTaggedFields()],
  ];
  for (const [h, fn] of cases) {
    assert.throws(() => fn(new Reader(Buffer.from(h, 'hex'))), (e: unknown) => {
      assert.ok(e instanceof ProtocolError, `${h}: ${String(e)}`);
      assert.ok(!(e as Error).message.includes('\n'));
      return true;
    });
  }
  // a Reader bounded by `end` does not read past it
  const r = new Reader(Buffer.from('0102030405', 'hex'), 1, 3);
  assert.equal(r.int16(), 0x0203);
  assert.throws(() => r.int8(), ProtocolError);
});

test('Writer: raw chunks are not copied, marks patch sizes, length is exact', () => {
  const w = new Writer(16);
  const m = w.markInt32();
  w.int32(5);
  const big = Buffer.alloc(4096, 1);
  w.raw(big).int16(9).raw(Buffer.from([7, 7])).string('abc');
  for (let i = 0; i < 100; i++) w.int64(i); // forces scratch growth after the mark
  w.patchInt32(m, w.length - 4);
  const list = w.toBuffers();
  assert.ok(list.includes(big), 'the large buffer is a chunk of its own');
  const all = w.toBuffer();
  assert.equal(all.length, w.length);
  assert.equal(all.length, 4 + 4 + 4096 + 2 + 2 + 5 + 800);
  assert.equal(all.readInt32BE(0), all.length - 4);
  const r = new Reader(all, 4);
  assert.equal(r.int32(), 5);
  r.skip(4096);
  assert.equal(r.int16(), 9);
  r.skip(2);
  assert.equal(r.string(), 'abc');
  for (let i = 0; i < 100; i++) assert.equal(r.int64(), i);
  assert.equal(new Writer().toBuffer().length, 0);
});

test('bytes given as chunks are written back to back without copying', () => {
  const a = Buffer.alloc(300, 1);
  const b = Buffer.alloc(500, 2);
  const w = new Writer().bytes([a, b]).compactNullableBytes([a]).nullableBytes([]).compactBytes([]);
  const list = w.toBuffers();
  assert.ok(list.includes(a) && list.includes(b), 'chunks are not copied');
  const r = new Reader(w.toBuffer());
  const ab = r.bytes();
  assert.equal(ab.length, 800);
  assert.ok(ab.equals(Buffer.concat([a, b])));
  assert.ok(r.compactNullableBytes()!.equals(a));
  assert.equal(r.nullableBytes()!.length, 0);
  assert.equal(r.compactBytes().length, 0);
  assert.equal(r.remaining(), 0);
});
