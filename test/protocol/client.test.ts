// KafkaConnection against a fake server: negotiation, pipelining with out-of-order answers,
// timeouts, closed sockets, refused connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaConnection, ConnectionError, parseBootstrap } from '../../src/core/protocol/client.js';
import { Apis } from '../../src/core/protocol/messages.js';
import { freePort } from '../helpers/util.js';
import { FakeBroker } from './fake-broker.js';

test('negotiate picks min(ours, broker) per API and skips what the broker lacks', async () => {
  const fake = new FakeBroker().support(Apis.ApiVersions).support(Apis.Metadata, 7).support(Apis.Fetch, 99, 4);
  fake.versions.set(9999, [0, 3]); // an API kafkit does not know
  const port = await fake.listen();
  const c = await KafkaConnection.connect('127.0.0.1', port, { clientId: 'neg', timeoutMs: 5000 });
  try {
    const v = await c.negotiate();
    assert.equal(v.get(Apis.ApiVersions.apiKey), Apis.ApiVersions.maxVersion);
    assert.equal(v.get(Apis.Metadata.apiKey), 7);
    assert.equal(v.get(Apis.Fetch.apiKey), Apis.Fetch.maxVersion);
    assert.equal(v.has(9999), false);
    assert.equal(c.versionOf(Apis.Metadata), 7);
    assert.throws(() => c.versionOf(Apis.Produce), /does not support Produce/);
    const av = fake.frames[0];
    assert.equal(av.header.clientId, 'neg');
    assert.equal((av.body as { clientSoftwareName: string }).clientSoftwareName, 'kafkit');
  } finally {
    await c.close();
    await fake.close();
  }
});

test('negotiate retries ApiVersions at the broker max after UNSUPPORTED_VERSION', async () => {
  const fake = new FakeBroker().support(Apis.ApiVersions, 1).support(Apis.Metadata, 4);
  const port = await fake.listen();
  const c = await KafkaConnection.connect('127.0.0.1', port);
  try {
    const v = await c.negotiate();
    assert.deepEqual(fake.frames.map((f) => f.header.apiVersion), [Apis.ApiVersions.maxVersion, 1]);
    assert.equal(v.get(Apis.Metadata.apiKey), 4);
  } finally {
    await c.close();
    await fake.close();
  }
});

test('pipelined requests resolve by correlation id even when answered out of order', async () => {
  const N = 20;
  const waiting: (() => void)[] = [];
  const fake = new FakeBroker((h, req) => {
    if (h.apiKey !== 3) return undefined;
    return new Promise((resolve) => {
      waiting.push(() => resolve({ topics: [{ name: req.topics[0].name, errorCode: 0 }] }));
      if (waiting.length === N) for (const go of waiting.reverse()) go(); // answer in reverse order
    });
  }).support(Apis.ApiVersions).support(Apis.Metadata);
  const port = await fake.listen();
  const c = await KafkaConnection.connect('127.0.0.1', port);
  try {
    await c.negotiate();
    const all = await Promise.all(Array.from({ length: N }, (_, i) => c.request(Apis.Metadata, { topics: [{ name: `t${i}` }] })));
    all.forEach((r, i) => assert.equal(r.topics[0].name, `t${i}`));
    const ids = fake.frames.map((f) => f.header.correlationId);
    assert.equal(new Set(ids).size, ids.length, 'correlation ids are unique');
  } finally {
    await c.close();
    await fake.close();
  }
});

test('a request times out cleanly; a closed socket rejects pending and later requests', async () => {
  const fake = new FakeBroker((h, _req, sock) => {
    if (h.apiKey === 3) return undefined; // never answers Metadata
    if (h.apiKey === 32) sock.destroy(); // DescribeConfigs: hang up
    return undefined;
  }).support(Apis.ApiVersions).support(Apis.Metadata).support(Apis.DescribeConfigs);
  const port = await fake.listen();
  const c = await KafkaConnection.connect('127.0.0.1', port);
  try {
    await c.negotiate();
    const t0 = Date.now();
    await assert.rejects(c.request(Apis.Metadata, {}, 150), (e: Error) => {
      assert.ok(e instanceof ConnectionError);
      assert.match(e.message, /^Metadata v\d+ request to 127\.0\.0\.1:\d+ timed out after 150 ms$/);
      return true;
    });
    assert.ok(Date.now() - t0 < 5000);
    const pendingMeta = c.request(Apis.Metadata, {}, 10000);
    await assert.rejects(c.request(Apis.DescribeConfigs, {}), /connection to 127\.0\.0\.1:\d+ closed/);
    await assert.rejects(pendingMeta, /closed/);
    await assert.rejects(c.request(Apis.Metadata, {}), /closed/);
    assert.equal(c.closed, true);
  } finally {
    await c.close();
    await fake.close();
  }
});

test('connecting to a port nobody listens on fails with one line', async () => {
  const port = await freePort();
  await assert.rejects(KafkaConnection.connect('127.0.0.1', port, { timeoutMs: 5000 }), (e: Error) => {
    assert.ok(e instanceof ConnectionError);
    assert.match(e.message, /^cannot connect to 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
});

test('bootstrap skips unreachable servers and negotiates; bad lists fail in one line', async () => {
  assert.deepEqual(parseBootstrap('a:1, [::1]:9092,127.0.0.1:65535'), [
    { host: 'a', port: 1 }, { host: '::1', port: 9092 }, { host: '127.0.0.1', port: 65535 },
  ]);
  assert.throws(() => parseBootstrap('localhost'), /^ConnectionError: invalid bootstrap server 'localhost': expected host:port$/);
  assert.throws(() => parseBootstrap('h:0'), /invalid bootstrap server 'h:0'/);
  assert.throws(() => parseBootstrap(' , '), /no bootstrap server given/);
  const dead = await freePort();
  const fake = new FakeBroker().support(Apis.ApiVersions).support(Apis.Metadata, 9);
  const port = await fake.listen();
  const c = await KafkaConnection.bootstrap(`127.0.0.1:${dead},127.0.0.1:${port}`, { timeoutMs: 5000 });
  try {
    assert.equal(c.port, port);
    assert.equal(c.versionOf(Apis.Metadata), 9);
  } finally {
    await c.close();
    await fake.close();
  }
  await assert.rejects(KafkaConnection.bootstrap(`127.0.0.1:${dead}`), /^ConnectionError: no broker of 127\.0\.0\.1:\d+ is reachable \(cannot connect/);
});
