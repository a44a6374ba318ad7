// Round trip of every API at every version, request and response, with objects that set
// every field present in that version to a non-default value (nulls where nullable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Reader, Writer } from '../../src/core/protocol/io.js';
import { Apis, apisByKey, DataCodecs, type ApiSpec, type DataSpec } from '../../src/core/protocol/messages.js';
import { loadMessages, defaultSpecDir } from '../../scripts/gen-protocol.js';

interface F {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  fields?: F[];
}
interface M {
  apiKey?: number;
  type: string;
  name: string;
  fields: F[];
  commonStructs?: { name: string; fields: F[] }[];
}

function inRange(s: string | undefined, v: number): boolean {
  if (!s || s === 'none') return false;
  const m = /^(\d+)(\+|-(\d+))?$/.exec(s)!;
  const lo = Number(m[1]);
  const hi = m[2] === '+' ? Infinity : m[3] !== undefined ? Number(m[3]) : lo;
  return v >= lo && v <= hi;
}

const camel = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

class Sampler {
  private n = 0;
  private structs = new Map<string, F[]>();
  constructor(msg: M) {
    for (const c of msg.commonStructs ?? []) this.structs.set(c.name, c.fields);
    const walk = (fs: F[]) => {
      for (const f of fs) if (f.fields) {
        this.structs.set(f.type.replace(/^\[\]/, ''), f.fields);
        walk(f.fields);
      }
    };
    walk(msg.fields);
  }

  private prim(t: string): unknown {
    const k = ++this.n;
    switch (t) {
      case 'int8': return (k % 100) + 1;
      case 'int16': return 1000 + k;
      case 'uint16': return 40000 + k;
      case 'int32': return 100000 + k;
      case 'int64': return 2 ** 40 + k;
      case 'float64': return k + 0.5;
      case 'bool': return k % 2 === 0;
      case 'uuid': { const b = Buffer.alloc(16, k); return b.toString('base64url'); }
      case 'string': return `s${k}-é`;
      case 'bytes': case 'records': return Buffer.from(`bytes-${k}`);
    }
    throw new Error(`no sample for ${t}`);
  }

  /** A sample object for a struct at version v: fields present in v only. */
  struct(fields: F[], v: number, depth: number): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (const f of fields) {
      const present = f.taggedVersions !== undefined ? inRange(f.taggedVersions, v) : inRange(f.versions, v);
      if (!present) continue;
      o[camel(f.name)] = this.value(f, v, depth);
    }
    return o;
  }

  private value(f: F, v: number, depth: number): unknown {
    const nullable = inRange(f.nullableVersions, v);
    // every third nullable field is null, the others carry values
    if (nullable && ++this.n % 3 === 0) return null;
    const t = f.type;
    if (t.startsWith('[]')) {
      const e = t.slice(2);
      const len = depth > 2 ? 1 : 2;
      const out: unknown[] = [];
      for (let i = 0; i < len; i++) out.push(this.structs.has(e) ? this.struct(this.structs.get(e)!, v, depth + 1) : this.prim(e));
      return out;
    }
    if (this.structs.has(t)) return this.struct(this.structs.get(t)!, v, depth + 1);
    return this.prim(t);
  }
}

/** Checks every key of expected (recursively) is equal in actual. */
function assertSubset(actual: unknown, expected: unknown, where: string): void {
  if (expected === null || typeof expected !== 'object' || Buffer.isBuffer(expected)) {
    if (Buffer.isBuffer(expected)) {
      assert.ok(Buffer.isBuffer(actual), `${where}: expected a Buffer`);
      assert.ok(expected.equals(actual as Buffer), `${where}: bytes differ`);
    } else assert.equal(actual, expected, where);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array`);
    assert.equal((actual as unknown[]).length, expected.length, `${where}: length`);
    expected.forEach((e, i) => assertSubset((actual as unknown[])[i], e, `${where}[${i}]`));
    return;
  }
  assert.ok(actual && typeof actual === 'object', `${where}: expected an object`);
  for (const [k, e] of Object.entries(expected)) assertSubset((actual as Record<string, unknown>)[k], e, `${where}.${k}`);
}

function assertPopulated(x: unknown, fields: string[], where: string): void {
  for (const k of fields) assert.notEqual((x as Record<string, unknown>)[k], undefined, `${where}.${k} is undefined`);
}

const specDir = defaultSpecDir();

test('every API at every version round-trips requests and responses', () => {
  assert.ok(existsSync(specDir), `message definitions not found at ${specDir} (needed to build sample objects)`);
  const msgs = loadMessages(specDir) as unknown as M[];
  let checked = 0;
  const codecs = DataCodecs as Record<string, DataSpec<any>>;
  for (const msg of msgs) {
    let enc: ApiSpec<any, any>['encodeRequest'];
    let dec: ApiSpec<any, any>['decodeRequest'];
    let range: { minVersion: number; maxVersion: number };
    if (msg.type === 'data') {
      const codec = codecs[`${msg.name}Codec`];
      assert.ok(codec, `${msg.name}: no DataSpec`);
      [enc, dec, range] = [codec.encode, codec.decode, codec];
    } else if (msg.type === 'request' || msg.type === 'response') {
      const api = apisByKey.get(msg.apiKey!)!;
      assert.ok(api, `${msg.name}: no ApiSpec for key ${msg.apiKey}`);
      const isReq = msg.type === 'request';
      enc = isReq ? api.encodeRequest : api.encodeResponse;
      dec = isReq ? api.decodeRequest : api.decodeResponse;
      range = api;
    } else continue;
    for (let v = range.minVersion; v <= range.maxVersion; v++) {
      const where = `${msg.name} v${v}`;
      const sample = new Sampler(msg).struct(msg.fields, v, 0);
      const w = new Writer(32);
      enc(w, v, sample);
      const buf = w.toBuffer();
      const r = new Reader(buf);
      const got = dec(r, v);
      assert.equal(r.remaining(), 0, `${where}: ${r.remaining()} bytes left after decode`);
      assertSubset(got, sample, where);
      assertPopulated(got, msg.fields.map((f) => camel(f.name)), where);
      // decoded objects re-encode to the same bytes
      const w2 = new Writer();
      enc(w2, v, got);
      assert.ok(w2.toBuffer().equals(buf), `${where}: re-encoding differs`);
      // an empty object encodes and decodes too (all defaults)
      const w3 = new Writer();
      enc(w3, v, {});
      const r3 = new Reader(w3.toBuffer());
      dec(r3, v);
      assert.equal(r3.remaining(), 0, `${where}: defaults`);
      checked++;
    }
  }
  assert.ok(checked > 600, `only ${checked} message versions checked`);
});

test('fuzz: corrupted requests of every API and version fail only with ProtocolError', () => {
  assert.ok(existsSync(specDir), `message definitions not found at ${specDir}`);
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const msgs = (loadMessages(specDir) as unknown as M[]).filter((m) => m.type === 'request');
  let decoded = 0;
  let rejected = 0;
  for (const msg of msgs) {
    const api = apisByKey.get(msg.apiKey!)!;
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      const w = new Writer();
      api.encodeRequest(w, v, new Sampler(msg).struct(msg.fields, v, 0));
      const good = w.toBuffer();
      for (let i = 0; i < 24; i++) {
        const bad = Buffer.from(good);
        const cut = i % 3 === 0 ? rnd(bad.length + 1) : bad.length;
        for (let k = 0; k < 1 + rnd(3); k++) if (bad.length) bad[rnd(bad.length)] = rnd(256);
        try {
          api.decodeRequest(new Reader(bad.subarray(0, cut)), v);
          decoded++;
        } catch (e) {
          assert.equal((e as Error).name, 'ProtocolError', `${msg.name} v${v}: ${String(e)}`);
          assert.ok(!(e as Error).message.includes('\n'));
          rejected++;
        }
      }
    }
  }
  assert.ok(rejected > 1000 && decoded > 100, `rejected ${rejected}, decoded ${decoded}`);
});

test('consumer protocol bytes from kafkajs decode with the data codecs', async () => {
  const { AssignerProtocol } = (await import('kafkajs')).default;
  // kafkajs labels its subscription version 1 but writes the v0 layout (no owned partitions)
  const sub = AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['a', 'b'], userData: Buffer.from('ud') });
  const r = new Reader(sub);
  assert.equal(r.int16(), 1);
  const s = DataCodecs.ConsumerProtocolSubscriptionCodec.decode(r, 0);
  assert.deepEqual(s.topics, ['a', 'b']);
  assert.equal(s.userData!.toString(), 'ud');
  assert.equal(r.remaining(), 0);
  const asg = AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { a: [0, 2], b: [1] }, userData: Buffer.alloc(0) });
  const r2 = new Reader(asg);
  const v = r2.int16();
  const a = DataCodecs.ConsumerProtocolAssignmentCodec.decode(r2, v);
  assert.deepEqual(a.assignedPartitions, [{ topic: 'a', partitions: [0, 2] }, { topic: 'b', partitions: [1] }]);
  // and kafkajs reads what we write
  const w = new Writer().int16(0);
  DataCodecs.ConsumerProtocolAssignmentCodec.encode(w, 0, { assignedPartitions: [{ topic: 't', partitions: [3] }], userData: null });
  const back = AssignerProtocol.MemberAssignment.decode(w.toBuffer());
  assert.deepEqual(back!.assignment, { t: [3] });
});

test('known wire bytes: ApiVersions v3 request and Metadata v0 request', () => {
  const w = new Writer();
  Apis.ApiVersions.encodeRequest(w, 3, { clientSoftwareName: 'kafkit', clientSoftwareVersion: '1.0' });
  assert.equal(w.toBuffer().toString('hex'), '07' + Buffer.from('kafkit').toString('hex') + '04' + Buffer.from('1.0').toString('hex') + '00');
  const w2 = new Writer();
  Apis.Metadata.encodeRequest(w2, 0, { topics: [{ name: 'ab' }] });
  assert.equal(w2.toBuffer().toString('hex'), '00000001' + '0002' + '6162');
  // Metadata v1+ null topics (all topics) is -1; v0 cannot say null and writes an empty array
  const w3 = new Writer();
  Apis.Metadata.encodeRequest(w3, 1, { topics: null });
  assert.equal(w3.toBuffer().toString('hex'), 'ffffffff');
  const w4 = new Writer();
  Apis.Metadata.encodeRequest(w4, 0, { topics: null });
  assert.equal(w4.toBuffer().toString('hex'), '00000000');
});

test('tagged fields: written only when not default, unknown tags skipped', () => {
  // FetchResponse v12 partition with a CurrentLeader (tag 1) set
  const w = new Writer();
  const resp = {
    responses: [{ topic: 't', partitions: [{ partitionIndex: 0, currentLeader: { leaderId: 3, leaderEpoch: 7 }, records: null }] }],
  };
  Apis.Fetch.encodeResponse(w, 12, resp);
  const got = Apis.Fetch.decodeResponse(new Reader(w.toBuffer()), 12);
  const p = got.responses[0].partitions[0];
  assert.deepEqual(p.currentLeader, { leaderId: 3, leaderEpoch: 7 });
  assert.deepEqual(p.divergingEpoch, { epoch: -1, endOffset: -1 });
  const wDefault = new Writer();
  Apis.Fetch.encodeResponse(wDefault, 12, { responses: [{ topic: 't', partitions: [{ partitionIndex: 0, records: null }] }] });
  // currentLeader = tag 1 + size 1 + 2 varints... the default form is shorter
  assert.ok(wDefault.length < w.length);
  // unknown tag 9 on an ApiVersions v3 request is skipped
  const raw = Buffer.from('02' + '61' + '02' + '62' + '01' + '09' + '03' + 'aabbcc', 'hex');
  const r = new Reader(raw);
  assert.deepEqual(Apis.ApiVersions.decodeRequest(r, 3), { clientSoftwareName: 'a', clientSoftwareVersion: 'b' });
  assert.equal(r.remaining(), 0);
});

test('Fetch records may be encoded from a list of chunks (no copy)', () => {
  const c1 = Buffer.alloc(1000, 1);
  const c2 = Buffer.alloc(2000, 2);
  for (const v of [4, 11, 12, 16]) {
    const w = new Writer();
    Apis.Fetch.encodeResponse(w, v, { responses: [{ topic: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partitionIndex: 0, records: [c1, c2] }] }] });
    assert.ok(w.toBuffers().includes(c1) && w.toBuffers().includes(c2), `v${v}: chunks passed through`);
    const got = Apis.Fetch.decodeResponse(new Reader(w.toBuffer()), v);
    assert.ok(got.responses[0].partitions[0].records!.equals(Buffer.concat([c1, c2])), `v${v}`);
  }
});

test('a missing records field is written empty, an explicit null stays null', () => {
  for (const v of [0, 4, 12, 16]) {
    const w = new Writer();
    Apis.Fetch.encodeResponse(w, v, { responses: [{ topic: 't', partitions: [{ partitionIndex: 0 }, { partitionIndex: 1, records: null }] }] });
    const ps = Apis.Fetch.decodeResponse(new Reader(w.toBuffer()), v).responses[0].partitions;
    assert.equal(ps[0].records!.length, 0, `v${v}`);
    assert.equal(ps[1].records, null, `v${v}`);
  }
});

test('malformed bodies throw ProtocolError', () => {
  const w = new Writer();
  Apis.Produce.encodeRequest(w, 7, { acks: -1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.alloc(300) }] }] });
  const buf = w.toBuffer();
  for (const cut of [1, 5, 20, buf.length - 1]) {
    assert.throws(() => Apis.Produce.decodeRequest(new Reader(buf.subarray(0, cut)), 7), { name: 'ProtocolError' }, `cut at ${cut}`);
  }
  // a huge array count is refused before anything is allocated
  assert.throws(() => Apis.Metadata.decodeRequest(new Reader(Buffer.from('7fffffff', 'hex')), 1), /exceeds/);
});

test('Apis table: keys, ranges, flexible versions', () => {
  assert.equal(Apis.Produce.apiKey, 0);
  assert.equal(Apis.ApiVersions.apiKey, 18);
  assert.equal(Apis.ApiVersions.firstFlexibleVersion, 3);
  assert.equal(Apis.Fetch.firstFlexibleVersion, 12);
  assert.equal(Apis.Produce.minVersion, 0);
  assert.ok(Apis.Metadata.maxVersion >= 12);
  assert.equal(apisByKey.get(3), Apis.Metadata);
  assert.equal(apisByKey.size, Object.keys(Apis).length);
});
