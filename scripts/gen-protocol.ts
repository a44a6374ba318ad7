// Generates src/core/protocol/messages.ts from Apache Kafka's message definitions
// (JSON with // comments, one file per request/response).
//
//   node dist/scripts/gen-protocol.js [specDir] [outFile]
//
// specDir defaults to ../shared/spec/kafka-messages next to the repository; outFile to
// src/core/protocol/messages.ts. Only names, types and version ranges are taken from the
// definitions; the output is straight-line TypeScript, one decoder/encoder per struct.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Range {
  lo: number;
  hi: number; // Infinity for "N+"
}

interface FieldDef {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  flexibleVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  fields?: FieldDef[];
}

interface StructDef {
  name: string;
  versions?: string;
  fields: FieldDef[];
}

interface MessageDef {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields: FieldDef[];
  commonStructs?: StructDef[];
}

const NONE: Range | null = null;

function parseRange(s: string | undefined, what: string): Range | null {
  if (s === undefined) throw new Error(`${what}: missing versions`);
  s = s.trim();
  if (s === 'none') return NONE;
  let m = /^(\d+)\+$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Infinity };
  m = /^(\d+)-(\d+)$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Number(m[2]) };
  m = /^(\d+)$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Number(m[1]) };
  throw new Error(`${what}: bad version range '${s}'`);
}

function intersect(a: Range | null, b: Range | null): Range | null {
  if (!a || !b) return null;
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  return lo <= hi ? { lo, hi } : null;
}

/** A condition on `v` that is true for versions in r, knowing v lies within ctx. */
function cond(r: Range | null, ctx: Range): string {
  const i = intersect(r, ctx);
  if (!i) return 'false';
  const parts: string[] = [];
  if (i.lo > ctx.lo) parts.push(`v >= ${i.lo}`);
  if (i.hi < ctx.hi) parts.push(`v <= ${i.hi}`);
  return parts.length ? parts.join(' && ') : 'true';
}

function tern(c: string, a: string, b: string): string {
  if (c === 'true') return a;
  if (c === 'false') return b;
  if (a === b) return a;
  return `(${c} ? ${a} : ${b})`;
}

export function stripComments(text: string): string {
  // Comments in these files are whole lines starting with //, or trailing after JSON text.
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    let inStr = false;
    let cut = line.length;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (inStr) {
        if (c === '\\') i++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === '/' && line[i + 1] === '/') {
        cut = i;
        break;
      }
    }
    out.push(line.slice(0, cut));
  }
  return out.join('\n');
}

const camel = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

const PRIMS: Record<string, { ts: string; read: string; write: string; def: string }> = {
  int8: { ts: 'number', read: 'r.int8()', write: 'int8', def: '0' },
  int16: { ts: 'number', read: 'r.int16()', write: 'int16', def: '0' },
  uint16: { ts: 'number', read: 'r.uint16()', write: 'uint16', def: '0' },
  int32: { ts: 'number', read: 'r.int32()', write: 'int32', def: '0' },
  int64: { ts: 'number', read: 'r.int64()', write: 'int64', def: '0' },
  float64: { ts: 'number', read: 'r.float64()', write: 'float64', def: '0' },
  bool: { ts: 'boolean', read: 'r.bool()', write: 'bool', def: 'false' },
  uuid: { ts: 'string', read: 'r.uuid()', write: 'uuid', def: 'ZERO_UUID' },
};
const ELEM_READ: Record<string, string> = {
  int8: 'rdInt8', int16: 'rdInt16', uint16: 'rdUint16', int32: 'rdInt32', int64: 'rdInt64',
  float64: 'rdFloat64', bool: 'rdBool', uuid: 'rdUuid',
};
const ELEM_WRITE: Record<string, string> = {
  int8: 'wrInt8', int16: 'wrInt16', uint16: 'wrUint16', int32: 'wrInt32', int64: 'wrInt64',
  float64: 'wrFloat64', bool: 'wrBool', uuid: 'wrUuid',
};

interface StructInfo {
  tsName: string;
  fields: FieldDef[];
  ctx: Range | null; // hull of the versions it is used in
  needIsDefault: boolean;
}

class MessageGen {
  readonly structs = new Map<string, StructInfo>();
  readonly top: StructInfo;
  readonly flex: Range | null;
  readonly range: Range;
  private out: string[] = [];

  constructor(readonly msg: MessageDef) {
    this.range = parseRange(msg.validVersions, msg.name)!;
    this.flex = parseRange(msg.flexibleVersions, msg.name);
    for (const cs of msg.commonStructs ?? []) this.register(cs.name, cs.fields);
    this.top = { tsName: msg.name, fields: msg.fields, ctx: null, needIsDefault: false };
    this.collect(msg.fields);
    this.use(this.top, this.range);
  }

  private register(name: string, fields: FieldDef[]): void {
    if (this.structs.has(name)) throw new Error(`${this.msg.name}: struct ${name} defined twice`);
    this.structs.set(name, { tsName: this.msg.name + name, fields, ctx: null, needIsDefault: false });
  }

  private collect(fields: FieldDef[]): void {
    for (const f of fields) {
      if (f.fields) {
        this.register(baseType(f.type), f.fields);
        this.collect(f.fields);
      }
    }
  }

  struct(type: string): StructInfo {
    const s = this.structs.get(baseType(type));
    if (!s) throw new Error(`${this.msg.name}: unknown type ${type}`);
    return s;
  }

  private use(s: StructInfo, ctx: Range): void {
    s.ctx = s.ctx ? { lo: Math.min(s.ctx.lo, ctx.lo), hi: Math.max(s.ctx.hi, ctx.hi) } : ctx;
    for (const f of s.fields) {
      if (isStruct(f.type)) {
        const fr = intersect(parseRange(f.versions, `${this.msg.name}.${f.name}`), ctx);
        if (fr) this.use(this.struct(f.type), fr);
      }
    }
  }

  private markIsDefault(s: StructInfo): void {
    if (s.needIsDefault) return;
    s.needIsDefault = true;
    for (const f of s.fields) if (isStruct(f.type)) this.markIsDefault(this.struct(f.type));
  }

  tsType(f: FieldDef): string {
    const nullable = f.nullableVersions !== undefined && parseRange(f.nullableVersions, f.name) !== null;
    const t = f.type;
    let base: string;
    if (t.startsWith('[]')) {
      const e = t.slice(2);
      base = (PRIMS[e] ? PRIMS[e].ts : e === 'string' ? 'string' : e === 'bytes' ? 'Buffer' : this.struct(e).tsName) + '[]';
    } else if (PRIMS[t]) base = PRIMS[t].ts;
    else if (t === 'string') base = 'string';
    else if (t === 'bytes') base = 'Buffer';
    else if (t === 'records') return 'Buffer | null';
    else base = this.struct(t).tsName;
    return nullable ? `${base} | null` : base;
  }

  /** The default value expression of a field (a fresh value for arrays/structs). */
  defaultExpr(f: FieldDef): string {
    const t = f.type;
    const d = f.default;
    const nullable = f.nullableVersions !== undefined && parseRange(f.nullableVersions, f.name) !== null;
    if (d === 'null') {
      if (!nullable) throw new Error(`${this.msg.name}.${f.name}: default null on a non-nullable field`);
      return 'null';
    }
    if (t.startsWith('[]')) return '[]';
    if (t === 'records') return 'null';
    if (PRIMS[t]) {
      if (d === undefined || d === '') return PRIMS[t].def;
      if (t === 'bool') return String(d === true || d === 'true');
      if (t === 'uuid') return JSON.stringify(String(d));
      const n = Number(d);
      if (!Number.isFinite(n)) throw new Error(`${this.msg.name}.${f.name}: bad default ${d}`);
      return String(n);
    }
    if (t === 'string') return JSON.stringify(d === undefined ? '' : String(d));
    if (t === 'bytes') return 'EMPTY';
    return `def_${this.struct(t).tsName}()`;
  }

  emit(): string {
    this.out = [];
    const all = [this.top, ...this.structs.values()].filter((s) => s.ctx !== null);
    // mark structs whose default-ness must be checked (tagged struct fields)
    for (const s of all) {
      for (const f of s.fields) if (f.taggedVersions !== undefined && isStruct(f.type)) this.markIsDefault(this.struct(f.type));
    }
    for (const s of all) this.emitInterface(s);
    for (const s of all) {
      if (s !== this.top) this.emitDefault(s);
      if (s.needIsDefault) this.emitIsDefault(s);
      this.emitDecode(s);
      this.emitEncode(s);
    }
    return this.out.join('\n');
  }

  private emitInterface(s: StructInfo): void {
    const o = this.out;
    o.push(`export interface ${s.tsName} {`);
    for (const f of s.fields) o.push(`  ${camel(f.name)}: ${this.tsType(f)};`);
    o.push('}', '');
  }

  private emitDefault(s: StructInfo): void {
    const o = this.out;
    o.push(`function def_${s.tsName}(): ${s.tsName} {`);
    o.push(`  return { ${s.fields.map((f) => `${camel(f.name)}: ${this.defaultExpr(f)}`).join(', ')} };`);
    o.push('}', '');
  }

  private emitIsDefault(s: StructInfo): void {
    const o = this.out;
    o.push(`function isDef_${s.tsName}(m: DeepPartial<${s.tsName}>): boolean {`);
    const checks = s.fields.map((f) => `(${this.isDefaultCheck(f, `m.${camel(f.name)}`)})`);
    o.push(`  return ${checks.length ? checks.join(' &&\n    ') : 'true'};`);
    o.push('}', '');
  }

  /** Expression: is value x (possibly undefined) the field's default? */
  private isDefaultCheck(f: FieldDef, x: string): string {
    const d = this.defaultExpr(f);
    const t = f.type;
    if (d === 'null') return `${x} == null`;
    if (t.startsWith('[]')) return `${x} == null || ${x}.length === 0`;
    if (t === 'bytes') return `${x} == null || ${x}.length === 0`;
    if (t === 'records') return `${x} == null`;
    if (isStruct(t)) return `${x} == null || isDef_${this.struct(t).tsName}(${x})`;
    return `${x} === undefined || ${x} === ${d}`;
  }

  private flexCond(f: FieldDef | null, ctx: Range): string {
    const fr = f?.flexibleVersions !== undefined ? parseRange(f.flexibleVersions, f.name) : this.flex;
    return cond(fr, ctx);
  }

  private nullCond(f: FieldDef, ctx: Range): string {
    return f.nullableVersions === undefined ? 'false' : cond(parseRange(f.nullableVersions, f.name), ctx);
  }

  /** Expression reading field f (present at every version of ctx). */
  private readExpr(f: FieldDef, ctx: Range): string {
    const t = f.type;
    const flex = this.flexCond(f, ctx);
    const nul = this.nullCond(f, ctx);
    if (PRIMS[t]) return PRIMS[t].read;
    if (t === 'string') {
      return tern(flex, tern(nul, 'r.compactNullableString()', 'r.compactString()'), tern(nul, 'r.nullableString()', 'r.string()'));
    }
    if (t === 'bytes' || t === 'records') {
      return tern(flex, tern(nul, 'r.compactNullableBytes()', 'r.compactBytes()'), tern(nul, 'r.nullableBytes()', 'r.bytes()'));
    }
    if (t.startsWith('[]')) {
      const e = t.slice(2);
      let el: string;
      if (ELEM_READ[e]) el = ELEM_READ[e];
      else if (e === 'string') el = tern(flex, 'rdCompactString', 'rdString');
      else if (e === 'bytes') el = tern(flex, 'rdCompactBytes', 'rdBytes');
      else el = `dec_${this.struct(e).tsName}`;
      const fl = flex === 'true' || flex === 'false' ? flex : `(${flex})`;
      return tern(nul, `rdArrayN(r, v, ${fl}, ${el})`, `rdArray(r, v, ${fl}, ${el})`);
    }
    const sn = this.struct(t).tsName;
    return tern(nul, `(r.int8() < 0 ? null : dec_${sn}(r, v))`, `dec_${sn}(r, v)`);
  }

  /** Statement writing value expression x (possibly undefined) of field f. */
  private writeStmt(f: FieldDef, x: string, ctx: Range, w = 'w'): string {
    const t = f.type;
    const flex = this.flexCond(f, ctx);
    const nul = this.nullCond(f, ctx);
    const d = this.defaultExpr(f);
    if (PRIMS[t]) return `${w}.${PRIMS[t].write}(${x} ?? ${d});`;
    if (t === 'string') {
      const nd = d === 'null' ? '""' : d;
      return tern(
        flex,
        tern(nul, `${w}.compactNullableString(dv(${x}, ${d}))`, `${w}.compactString(${x} ?? ${nd})`),
        tern(nul, `${w}.nullableString(dv(${x}, ${d}))`, `${w}.string(${x} ?? ${nd})`),
      ) + ';';
    }
    if (t === 'bytes' || t === 'records') {
      // a missing records field is written empty, as Kafka's broker does (explicit null stays null)
      const md = t === 'records' ? 'EMPTY' : d;
      return tern(
        flex,
        tern(nul, `${w}.compactNullableBytes(dv(${x}, ${md}))`, `${w}.compactBytes(${x} ?? EMPTY)`),
        tern(nul, `${w}.nullableBytes(dv(${x}, ${md}))`, `${w}.bytes(${x} ?? EMPTY)`),
      ) + ';';
    }
    if (t.startsWith('[]')) {
      const e = t.slice(2);
      let el: string;
      if (ELEM_WRITE[e]) el = ELEM_WRITE[e];
      else if (e === 'string') el = tern(flex, 'wrCompactString', 'wrString');
      else if (e === 'bytes') el = tern(flex, 'wrCompactBytes', 'wrBytes');
      else el = `enc_${this.struct(e).tsName}`;
      const fl = flex === 'true' || flex === 'false' ? flex : `(${flex})`;
      const nl = nul === 'true' || nul === 'false' ? nul : `(${nul})`;
      const val = d === 'null' ? `dv(${x}, null)` : x;
      return `wrArray(${w}, v, ${fl}, ${nl}, ${val}, ${el});`;
    }
    const sn = this.struct(t).tsName;
    if (nul === 'false') return `enc_${sn}(${w}, v, ${x} ?? {});`;
    const val = d === 'null' ? `dv(${x}, null)` : `dv(${x}, {})`;
    const nl = nul === 'true' ? '' : `!(${nul}) ? enc_${sn}(${w}, v, ${x} ?? {}) : `;
    return `{ const s = ${val}; ${nl}s === null ? ${w}.int8(-1) : (${w}.int8(1), enc_${sn}(${w}, v, s)); }`;
  }

  private emitDecode(s: StructInfo): void {
    const o = this.out;
    const ctx = s.ctx!;
    o.push(`function dec_${s.tsName}(r: Reader, v: number): ${s.tsName} {`);
    const tagged: FieldDef[] = [];
    const names: string[] = [];
    for (const f of s.fields) {
      const vn = `f_${camel(f.name)}`;
      names.push(`${camel(f.name)}: ${vn}`);
      if (f.taggedVersions !== undefined) {
        tagged.push(f);
        o.push(`  let ${vn}: ${this.tsType(f)} = ${this.defaultExpr(f)};`);
        continue;
      }
      const fr = intersect(parseRange(f.versions, f.name), ctx);
      const c = cond(fr, ctx);
      if (c === 'false') o.push(`  const ${vn}: ${this.tsType(f)} = ${this.defaultExpr(f)};`);
      else if (c === 'true') o.push(`  const ${vn}: ${this.tsType(f)} = ${this.readExpr(f, fr!)};`);
      else o.push(`  const ${vn}: ${this.tsType(f)} = ${c} ? ${this.readExpr(f, fr!)} : ${this.defaultExpr(f)};`);
    }
    const flex = this.flexCond(null, ctx);
    if (flex !== 'false') {
      o.push(`  if (${flex}) {`);
      if (tagged.length === 0) o.push('    r.skipTaggedFields();');
      else {
        o.push('    let n = r.unsignedVarint();');
        o.push('    while (n-- > 0) {');
        o.push('      const tag = r.unsignedVarint();');
        o.push('      const size = r.unsignedVarint();');
        o.push('      const end = r.offset + size;');
        o.push('      switch (tag) {');
        for (const f of [...tagged].sort((a, b) => a.tag! - b.tag!)) {
          const tr = intersect(parseRange(f.taggedVersions, f.name), ctx);
          if (!tr) continue;
          const c = cond(tr, ctx);
          o.push(`        case ${f.tag}:`);
          o.push(`          if (${c}) { f_${camel(f.name)} = ${this.readExpr(f, tr)}; endTag(r, end); } else r.skip(size);`);
          o.push('          break;');
        }
        o.push('        default:');
        o.push('          r.skip(size);');
        o.push('      }');
        o.push('    }');
      }
      o.push('  }');
    }
    o.push(`  return { ${names.join(', ')} };`);
    o.push('}', '');
  }

  private emitEncode(s: StructInfo): void {
    const o = this.out;
    const ctx = s.ctx!;
    const used = s.fields.length > 0;
    o.push(`function enc_${s.tsName}(w: Writer, v: number, ${used ? 'm' : '_m'}: DeepPartial<${s.tsName}>): void {`);
    const tagged: FieldDef[] = [];
    for (const f of s.fields) {
      if (f.taggedVersions !== undefined) {
        tagged.push(f);
        continue;
      }
      const fr = intersect(parseRange(f.versions, f.name), ctx);
      const c = cond(fr, ctx);
      if (c === 'false') continue;
      const st = this.writeStmt(f, `m.${camel(f.name)}`, fr!);
      o.push(c === 'true' ? `  ${st}` : `  if (${c}) ${st}`);
    }
    const flex = this.flexCond(null, ctx);
    if (flex !== 'false') {
      const live = tagged
        .map((f) => ({ f, tr: intersect(parseRange(f.taggedVersions, f.name), ctx) }))
        .filter((x) => x.tr !== null)
        .sort((a, b) => a.f.tag! - b.f.tag!);
      if (live.length === 0) {
        o.push(flex === 'true' ? '  w.unsignedVarint(0);' : `  if (${flex}) w.unsignedVarint(0);`);
      } else {
        o.push(`  if (${flex}) {`);
        o.push('    let n = 0;');
        live.forEach(({ f, tr }, i) => {
          const c = cond(tr, ctx);
          const x = `m.${camel(f.name)}`;
          o.push(`    const t${i} = ${c === 'true' ? '' : `(${c}) && `}!(${this.isDefaultCheck(f, x)});`);
          o.push(`    if (t${i}) n++;`);
        });
        o.push('    w.unsignedVarint(n);');
        live.forEach(({ f, tr }, i) => {
          o.push(`    if (t${i}) {`);
          o.push('      const tw = new Writer(64);');
          o.push(`      ${this.writeStmt(f, `m.${camel(f.name)}`, tr!, 'tw')}`);
          o.push(`      w.unsignedVarint(${f.tag}).unsignedVarint(tw.length).append(tw);`);
          o.push('    }');
        });
        o.push('  }');
      }
    }
    o.push('}', '');
  }
}

function baseType(t: string): string {
  return t.startsWith('[]') ? t.slice(2) : t;
}

function isStruct(t: string): boolean {
  const b = baseType(t);
  return /^[A-Z]/.test(b);
}

const PREAMBLE = `// GENERATED by scripts/gen-protocol.ts from Apache Kafka's message definitions. Do not edit:
// change the generator and run \`node dist/scripts/gen-protocol.js\`.
/* eslint-disable */
import { Reader, Writer, ProtocolError, ZERO_UUID } from './io.js';

/**
 * Any field may be left out when encoding; a missing field is written as its default.
 * A bytes or records field may also be given as a list of chunks (e.g. record batches read
 * from several log segments): they are written back to back, not copied.
 */
export type DeepPartial<T> = T extends Buffer
  ? T | readonly Buffer[]
  : T extends (infer U)[]
    ? DeepPartial<U>[]
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;

export interface ApiSpec<Req, Res> {
  apiKey: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  /** maxVersion, or one less when Kafka marks the latest version unstable. */
  maxStableVersion: number;
  /** Infinity when the API has no flexible version. */
  firstFlexibleVersion: number;
  /** Where Kafka serves it: 'zkBroker', 'broker', 'controller'. */
  listeners: readonly string[];
  decodeRequest(r: Reader, v: number): Req;
  encodeRequest(w: Writer, v: number, m: DeepPartial<Req>): void;
  decodeResponse(r: Reader, v: number): Res;
  encodeResponse(w: Writer, v: number, m: DeepPartial<Res>): void;
}

/**
 * A versioned structure that is not a request or response (e.g. the consumer protocol's
 * subscription and assignment bytes). The version is not part of the encoding: where the
 * format carries one (consumer protocol: an int16 before the struct), read/write it yourself.
 */
export interface DataSpec<T> {
  name: string;
  minVersion: number;
  maxVersion: number;
  firstFlexibleVersion: number;
  decode(r: Reader, v: number): T;
  encode(w: Writer, v: number, m: DeepPartial<T>): void;
}

const EMPTY = Buffer.alloc(0);

function dv<T>(x: T | undefined, d: T): T {
  return x === undefined ? d : x;
}

function endTag(r: Reader, end: number): void {
  if (r.offset > end) throw new ProtocolError(\`tagged field overran its size by \${r.offset - end} bytes\`);
  r.offset = end;
}

type El<T> = (r: Reader, v: number) => T;
type WEl<T> = (w: Writer, v: number, x: T) => void;

function rdArray<T>(r: Reader, v: number, flex: boolean, el: El<T>): T[] {
  const n = flex ? r.compactArrayLength(false) : r.arrayLength(false);
  const a: T[] = new Array(n);
  for (let i = 0; i < n; i++) a[i] = el(r, v);
  return a;
}

function rdArrayN<T>(r: Reader, v: number, flex: boolean, el: El<T>): T[] | null {
  const n = flex ? r.compactArrayLength(true) : r.arrayLength(true);
  if (n < 0) return null;
  const a: T[] = new Array(n);
  for (let i = 0; i < n; i++) a[i] = el(r, v);
  return a;
}

function wrArray<T>(w: Writer, v: number, flex: boolean, nullable: boolean, a: T[] | null | undefined, el: WEl<T>): void {
  if (a == null) {
    if (nullable && a === null) {
      if (flex) w.unsignedVarint(0);
      else w.int32(-1);
    } else if (flex) w.unsignedVarint(1);
    else w.int32(0);
    return;
  }
  const n = a.length;
  if (flex) w.unsignedVarint(n + 1);
  else w.int32(n);
  for (let i = 0; i < n; i++) el(w, v, a[i]);
}

const rdInt8 = (r: Reader) => r.int8();
const rdInt16 = (r: Reader) => r.int16();
const rdUint16 = (r: Reader) => r.uint16();
const rdInt32 = (r: Reader) => r.int32();
const rdInt64 = (r: Reader) => r.int64();
const rdFloat64 = (r: Reader) => r.float64();
const rdBool = (r: Reader) => r.bool();
const rdUuid = (r: Reader) => r.uuid();
const rdString = (r: Reader) => r.string();
const rdCompactString = (r: Reader) => r.compactString();
const rdBytes = (r: Reader) => r.bytes();
const rdCompactBytes = (r: Reader) => r.compactBytes();
const wrInt8 = (w: Writer, _v: number, x: number) => void w.int8(x ?? 0);
const wrInt16 = (w: Writer, _v: number, x: number) => void w.int16(x ?? 0);
const wrUint16 = (w: Writer, _v: number, x: number) => void w.uint16(x ?? 0);
const wrInt32 = (w: Writer, _v: number, x: number) => void w.int32(x ?? 0);
const wrInt64 = (w: Writer, _v: number, x: number) => void w.int64(x ?? 0);
const wrFloat64 = (w: Writer, _v: number, x: number) => void w.float64(x ?? 0);
const wrBool = (w: Writer, _v: number, x: boolean) => void w.bool(x ?? false);
const wrUuid = (w: Writer, _v: number, x: string) => void w.uuid(x);
const wrString = (w: Writer, _v: number, x: string) => void w.string(x ?? '');
const wrCompactString = (w: Writer, _v: number, x: string) => void w.compactString(x ?? '');
const wrBytes = (w: Writer, _v: number, x: Buffer | readonly Buffer[]) => void w.bytes(x ?? EMPTY);
const wrCompactBytes = (w: Writer, _v: number, x: Buffer | readonly Buffer[]) => void w.compactBytes(x ?? EMPTY);
`;

export function loadMessages(specDir: string): MessageDef[] {
  const files = fs.readdirSync(specDir).filter((f) => f.endsWith('.json')).sort();
  return files.map((f) => {
    const text = fs.readFileSync(path.join(specDir, f), 'utf8');
    try {
      return JSON.parse(stripComments(text)) as MessageDef;
    } catch (e) {
      throw new Error(`${f}: ${(e as Error).message}`);
    }
  });
}

export function generate(specDir: string): string {
  const msgs = loadMessages(specDir);
  const reqs = new Map<number, MessageDef>();
  const resps = new Map<number, MessageDef>();
  for (const m of msgs) {
    if (m.type === 'request') reqs.set(m.apiKey!, m);
    else if (m.type === 'response') resps.set(m.apiKey!, m);
  }
  const keys = [...reqs.keys()].sort((a, b) => a - b);
  const out: string[] = [PREAMBLE];
  const apis: string[] = [];
  for (const key of keys) {
    const req = reqs.get(key)!;
    const res = resps.get(key);
    if (!res) throw new Error(`${req.name}: no response for api key ${key}`);
    const name = req.name.replace(/Request$/, '');
    const rg = new MessageGen(req);
    const sg = new MessageGen(res);
    out.push(`// ---- ${name} (api key ${key}) ----`, '');
    out.push(rg.emit());
    out.push(sg.emit());
    const flex = rg.flex ? String(rg.flex.lo) : 'Infinity';
    const max = rg.range.hi;
    const stable = req.latestVersionUnstable ? max - 1 : max;
    out.push(`export const ${name}: ApiSpec<${req.name}, ${res.name}> = {`);
    out.push(`  apiKey: ${key},`);
    out.push(`  name: '${name}',`);
    out.push(`  minVersion: ${rg.range.lo},`);
    out.push(`  maxVersion: ${max},`);
    out.push(`  maxStableVersion: ${stable},`);
    out.push(`  firstFlexibleVersion: ${flex},`);
    out.push(`  listeners: ${JSON.stringify(req.listeners ?? [])},`);
    out.push(`  decodeRequest: dec_${req.name},`);
    out.push(`  encodeRequest: enc_${req.name},`);
    out.push(`  decodeResponse: dec_${res.name},`);
    out.push(`  encodeResponse: enc_${res.name},`);
    out.push('};', '');
    apis.push(name);
  }
  // "data" schemas (consumer protocol subscription/assignment bytes and the like)
  const datas: string[] = [];
  for (const m of msgs.filter((x) => x.type === 'data').sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const g = new MessageGen(m);
    out.push(`// ---- ${m.name} (data) ----`, '');
    out.push(g.emit());
    out.push(`export const ${m.name}Codec: DataSpec<${m.name}> = {`);
    out.push(`  name: '${m.name}',`);
    out.push(`  minVersion: ${g.range.lo},`);
    out.push(`  maxVersion: ${g.range.hi},`);
    out.push(`  firstFlexibleVersion: ${g.flex ? String(g.flex.lo) : 'Infinity'},`);
    out.push(`  decode: dec_${m.name},`);
    out.push(`  encode: enc_${m.name},`);
    out.push('};', '');
    datas.push(`${m.name}Codec`);
  }
  out.push('export const DataCodecs = {');
  for (const d of datas) out.push(`  ${d},`);
  out.push('};', '');

  out.push('export const Apis = {');
  for (const a of apis) out.push(`  ${a},`);
  out.push('};', '');
  out.push('export type ApiName = keyof typeof Apis;', '');
  out.push('export const apisByKey: Map<number, ApiSpec<any, any>> = new Map(');
  out.push('  Object.values(Apis).map((a): [number, ApiSpec<any, any>] => [a.apiKey, a]),');
  out.push(');', '');
  return out.join('\n');
}

function repoRoot(): string {
  // dist/scripts/gen-protocol.js -> repo root
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function defaultSpecDir(): string {
  return path.resolve(repoRoot(), '..', 'shared', 'spec', 'kafka-messages');
}

export function defaultOutFile(): string {
  return path.join(repoRoot(), 'src', 'core', 'protocol', 'messages.ts');
}

const invoked = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
  const specDir = process.argv[2] ?? defaultSpecDir();
  const outFile = process.argv[3] ?? defaultOutFile();
  try {
    const text = generate(specDir);
    fs.writeFileSync(outFile, text);
    console.log(`wrote ${outFile} (${text.split('\n').length} lines)`);
  } catch (e) {
    console.error(`gen-protocol: ${(e as Error).message}`);
    process.exit(1);
  }
}
