import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, Writer, ProtocolError } from '../../src/core/protocol/io.js';
import { Apis } from '../../src/core/protocol/messages.js';
import {
  requestHeaderVersion, responseHeaderVersion, decodeRequestHeader, encodeRequestHeader,
  encodeResponseHeader, decodeResponseHeader,
} from '../../src/core/protocol/header.js';

test('header versions follow flexible versions; ApiVersions responses always use v0', () => {
  assert.equal(requestHeaderVersion(0, 8), 1);
  assert.equal(requestHeaderVersion(0, 9), 2);
  assert.equal(requestHeaderVersion(18, 2), 1);
  assert.equal(requestHeaderVersion(18, 3), 2);
  assert.equal(requestHeaderVersion(7, 0), 0, 'ControlledShutdown v0');
  assert.equal(requestHeaderVersion(7, 1), 1);
  assert.equal(requestHeaderVersion(9999, 0), 1, 'unknown key');
  assert.equal(responseHeaderVersion(18, 3), 0);
  assert.equal(responseHeaderVersion(18, 99), 0);
  assert.equal(responseHeaderVersion(3, 8), 0);
  assert.equal(responseHeaderVersion(3, 9), 1);
  assert.equal(responseHeaderVersion(60, 0), 1, 'DescribeCluster is flexible from v0');
});

test('request headers round trip at v0, v1 and v2', () => {
  for (const [key, ver, hv] of [[7, 0, 0], [3, 4, 1], [3, 12, 2]] as const) {
    const w = new Writer();
    encodeRequestHeader(w, key, ver, 42, 'cli');
    w.int8(99);
    const r = new Reader(w.toBuffer());
    const h = decodeRequestHeader(r);
    assert.equal(h.apiKey, key);
    assert.equal(h.apiVersion, ver);
    assert.equal(h.correlationId, 42);
    assert.equal(h.headerVersion, hv);
    assert.equal(h.clientId, hv === 0 ? null : 'cli');
    assert.equal(h.supported, true);
    assert.equal(r.int8(), 99, 'the body starts right after the header');
  }
  // a null client id, and tagged fields in a v2 header are skipped
  const raw = Buffer.from('0003000c00000007ffff' + '01' + '05' + '02' + 'abcd' + '63', 'hex');
  const r = new Reader(raw);
  const h = decodeRequestHeader(r);
  assert.equal(h.clientId, null);
  assert.equal(r.int8(), 0x63);
});

test('unknown keys and unsupported versions still yield key, version and correlation id', () => {
  const unknown = Buffer.from('270f0001000001c8', 'hex'); // key 9999, v1, id 456, nothing else
  const h = decodeRequestHeader(new Reader(unknown));
  assert.deepEqual([h.apiKey, h.apiVersion, h.correlationId, h.supported, h.api], [9999, 1, 456, false, undefined]);
  const w = new Writer();
  encodeRequestHeader(w, 18, 77, 5, 'future-client');
  const h2 = decodeRequestHeader(new Reader(w.toBuffer()));
  assert.deepEqual([h2.apiKey, h2.apiVersion, h2.correlationId, h2.supported, h2.clientId], [18, 77, 5, false, 'future-client']);
  assert.equal(h2.api, Apis.ApiVersions);
  // an unsupported version with a garbled client id: fixed part still returned
  const h3 = decodeRequestHeader(new Reader(Buffer.from('0012004d0000000900ff', 'hex')));
  assert.deepEqual([h3.apiKey, h3.apiVersion, h3.correlationId, h3.clientId], [18, 77, 9, null]);
  // a supported request with a truncated client id is malformed
  assert.throws(() => decodeRequestHeader(new Reader(Buffer.from('000300040000000900ff', 'hex'))), ProtocolError);
  assert.throws(() => decodeRequestHeader(new Reader(Buffer.from('0003', 'hex'))), ProtocolError);
});

test('response headers', () => {
  const w = new Writer();
  encodeResponseHeader(w, 7, 0);
  encodeResponseHeader(w, 8, 1);
  assert.equal(w.toBuffer().toString('hex'), '00000007' + '00000008' + '00');
  const r = new Reader(w.toBuffer());
  assert.equal(decodeResponseHeader(r, 0), 7);
  assert.equal(decodeResponseHeader(r, 1), 8);
  assert.equal(r.remaining(), 0);
});
