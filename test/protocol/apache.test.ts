// KafkaConnection and the generated codecs against the reference: Apache Kafka 3.9 (ZooKeeper
// mode) on free ports. Flexible versions end to end: CreateTopics, Metadata v12, Produce with
// a hand-built record batch, Fetch by topic id, ListOffsets, DescribeConfigs, DescribeCluster;
// then kcat (librdkafka) reads back what kafkit's codec produced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KafkaConnection } from '../../src/core/protocol/client.js';
import { Apis } from '../../src/core/protocol/messages.js';
import { Writer } from '../../src/core/protocol/io.js';
import { freePort, tempDir, removeDir, waitFor, Proc } from '../helpers/util.js';

const APACHE = process.env.APACHE_KAFKA_HOME ?? join(homedir(), '.cache', 'apache-kafka-3.9');

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

function crc32c(b: Buffer): number {
  let c = -1;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** One uncompressed magic-2 batch, built with kafkit's Writer (varints, varlongs). */
function buildBatch(values: string[], ts: number): Buffer {
  const recs = new Writer();
  values.forEach((v, i) => {
    const body = new Writer();
    body.int8(0).varlong(i).varint(i).varint(-1); // attributes, timestampDelta, offsetDelta, null key
    const val = Buffer.from(v);
    body.varint(val.length).raw(val).varint(0); // value, no headers
    recs.varint(body.length).append(body);
  });
  const afterCrc = new Writer();
  afterCrc.int16(0).int32(values.length - 1).int64(ts).int64(ts + values.length - 1);
  afterCrc.int64(-1).int16(-1).int32(-1).int32(values.length).append(recs);
  const tail = afterCrc.toBuffer();
  const w = new Writer();
  w.int64(0).int32(4 + 1 + 4 + tail.length).int32(-1).int8(2).uint32(crc32c(tail)).raw(tail);
  return w.toBuffer();
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) =>
      res({ code: err ? 1 : 0, stdout: String(stdout), stderr: String(stderr) + (err ? err.message : '') }));
  });
}

test('KafkaConnection against Apache Kafka 3.9 at flexible versions', { timeout: 150000 }, async (t) => {
  if (!existsSync(join(APACHE, 'libs'))) {
    t.skip(`Apache Kafka 3.9 is not installed in ${APACHE} (run ../shared/tools/apache-kafka)`);
    return;
  }
  const dir = tempDir('kafkit-apache-');
  const procs: Proc[] = [];
  let conn: KafkaConnection | undefined;
  try {
    const zkPort = await freePort();
    const kPort = await freePort();
    mkdirSync(join(dir, 'zk'));
    writeFileSync(join(dir, 'zk.properties'), `dataDir=${join(dir, 'zk').replace(/\\/g, '/')}\nclientPort=${zkPort}\nmaxClientCnxns=0\nadmin.enableServer=false\n`);
    writeFileSync(join(dir, 'server.properties'), [
      'broker.id=0', `listeners=PLAINTEXT://127.0.0.1:${kPort}`, `log.dirs=${join(dir, 'logs').replace(/\\/g, '/')}`,
      `zookeeper.connect=127.0.0.1:${zkPort}`, 'offsets.topic.replication.factor=1', 'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1', 'group.initial.rebalance.delay.ms=0', 'num.partitions=1',
    ].join('\n') + '\n');
    const cp = join(APACHE, 'libs', '*');
    const log4j = `-Dlog4j.configuration=file:${join(APACHE, 'config', 'log4j.properties')}`;
    const java = (args: string[]) => new Proc(spawn('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', log4j, `-Dkafka.logs.dir=${join(dir, 'applogs')}`, '-cp', cp, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    procs.push(java(['org.apache.zookeeper.server.quorum.QuorumPeerMain', join(dir, 'zk.properties')]));
    await procs[0].waitForOutput(/binding to port|Started AdminServer|PrepRequestProcessor/, 60000);
    procs.push(java(['kafka.Kafka', join(dir, 'server.properties')]));
    await procs[1].waitForOutput(/started \(kafka\.server\.KafkaServer\)/, 90000);

    conn = await waitFor(() => KafkaConnection.connect('127.0.0.1', kPort, { clientId: 'kafkit-proto', timeoutMs: 15000 }), 30000, 'a connection to Apache Kafka');
    const c = conn;
    const v = await c.negotiate();
    assert.ok(v.get(Apis.ApiVersions.apiKey)! >= 3, 'Kafka 3.9 serves a flexible ApiVersions');
    assert.equal(v.get(Apis.Metadata.apiKey), 12);
    assert.ok(v.get(Apis.Produce.apiKey)! >= 9 && v.get(Apis.Fetch.apiKey)! >= 13);

    // the broker knows itself once its metadata cache has it
    await waitFor(async () => (await c.request(Apis.Metadata, { topics: [] })).brokers.length === 1, 30000, 'the broker in Metadata');

    // CreateTopics (flexible)
    const ct = await c.request(Apis.CreateTopics, { topics: [{ name: 'proto-t', numPartitions: 2, replicationFactor: 1 }], timeoutMs: 30000 });
    assert.equal(ct.topics[0].errorCode, 0, `CreateTopics: ${ct.topics[0].errorMessage}`);
    assert.equal(ct.topics[0].numPartitions, 2);
    assert.match(ct.topics[0].topicId, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(ct.topics[0].topicId, 'AAAAAAAAAAAAAAAAAAAAAA');
    assert.ok(ct.topics[0].configs!.some((cfg) => cfg.name === 'cleanup.policy' && cfg.value === 'delete'));

    // Metadata v12 until the leader is elected
    const md = (await waitFor(async () => {
      const m = await c.request(Apis.Metadata, { topics: [{ name: 'proto-t' }], allowAutoTopicCreation: false });
      const tm = m.topics[0];
      return tm.errorCode === 0 && tm.partitions.length === 2 && tm.partitions.every((p) => p.leaderId === 0) ? m : undefined;
    }, 30000, 'partition leaders'))!;
    assert.equal(md.brokers[0].port, kPort);
    assert.equal(md.topics[0].topicId, ct.topics[0].topicId);
    assert.equal(md.controllerId, 0);
    assert.ok(md.clusterId && md.clusterId.length === 22);

    // Produce (flexible) a batch built here
    const ts = Date.now();
    const pr = await c.request(Apis.Produce, {
      acks: -1, timeoutMs: 10000,
      topicData: [{ name: 'proto-t', partitionData: [{ index: 0, records: buildBatch(['one', 'two', 'three'], ts) }] }],
    });
    const pp = pr.responses[0].partitionResponses[0];
    assert.equal(pp.errorCode, 0, `Produce error ${pp.errorCode} ${pp.errorMessage}`);
    assert.equal(pp.baseOffset, 0);

    // Fetch by topic id (v13+)
    const fr = await c.request(Apis.Fetch, {
      replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'proto-t', topicId: md.topics[0].topicId, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, logStartOffset: -1 }] }],
    });
    assert.equal(fr.errorCode, 0);
    const fp = fr.responses[0].partitions[0];
    assert.equal(fp.errorCode, 0);
    assert.equal(fp.highWatermark, 3);
    assert.ok(fp.records && fp.records.includes(Buffer.from('three')), 'fetched records hold the values');
    assert.equal(fp.records!.readInt8(16), 2, 'magic 2');

    // ListOffsets latest, DescribeConfigs, DescribeCluster
    const lo = await c.request(Apis.ListOffsets, { replicaId: -1, topics: [{ name: 'proto-t', partitions: [{ partitionIndex: 0, timestamp: -1 }] }] });
    assert.equal(lo.topics[0].partitions[0].offset, 3);
    const dc = await c.request(Apis.DescribeConfigs, { resources: [{ resourceType: 2, resourceName: 'proto-t', configurationKeys: null }] });
    assert.equal(dc.results[0].errorCode, 0);
    assert.ok(dc.results[0].configs.some((x) => x.name === 'retention.ms'));
    const cl = await c.request(Apis.DescribeCluster, {});
    assert.equal(cl.brokers[0].brokerId, 0);
    assert.equal(cl.clusterId, md.clusterId);

    // admin APIs at the negotiated (mostly flexible) versions
    const ver = (a: { apiKey: number }) => v.get(a.apiKey);
    // (COORDINATOR_LOAD_IN_PROGRESS, 14, until the broker has its first block of producer ids)
    const ip = (await waitFor(async () => {
      const r = await c.request(Apis.InitProducerId, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 });
      return r.errorCode === 0 ? r : undefined;
    }, 30000, 'InitProducerId without error'))!;
    assert.ok(ip.producerId >= 0, `InitProducerId v${ver(Apis.InitProducerId)}`);
    const fc = await c.request(Apis.FindCoordinator, { key: 'g1', keyType: 0, coordinatorKeys: ['g1'] });
    const coord = ver(Apis.FindCoordinator)! >= 4 ? fc.coordinators[0] : fc;
    assert.ok([0, 15].includes(coord.errorCode), `FindCoordinator error ${coord.errorCode}`);
    // ListGroups answers COORDINATOR_LOAD_IN_PROGRESS (14) while __consumer_offsets loads
    await waitFor(async () => (await c.request(Apis.ListGroups, {})).errorCode === 0, 30000, 'ListGroups without error');
    const iac = await c.request(Apis.IncrementalAlterConfigs, {
      resources: [{ resourceType: 2, resourceName: 'proto-t', configs: [{ name: 'retention.ms', configOperation: 0, value: '12345' }] }],
    });
    assert.equal(iac.responses[0].errorCode, 0, `IncrementalAlterConfigs: ${iac.responses[0].errorMessage}`);
    await waitFor(async () => {
      const d = await c.request(Apis.DescribeConfigs, { resources: [{ resourceType: 2, resourceName: 'proto-t', configurationKeys: ['retention.ms'] }] });
      return d.results[0].configs[0]?.value === '12345';
    }, 15000, 'retention.ms=12345 visible');
    const cparts = await c.request(Apis.CreatePartitions, { topics: [{ name: 'proto-t', count: 3, assignments: null }], timeoutMs: 10000 });
    assert.equal(cparts.results[0].errorCode, 0, `CreatePartitions: ${cparts.results[0].errorMessage}`);
    const dl = await c.request(Apis.DescribeLogDirs, { topics: null });
    assert.equal(dl.results[0].errorCode, 0);
    assert.ok(dl.results[0].topics.some((x) => x.name === 'proto-t'));
    const dp = await c.request(Apis.DescribeProducers, { topics: [{ name: 'proto-t', partitionIndexes: [0] }] });
    assert.equal(dp.topics[0].partitions[0].errorCode, 0);
    const dr = await c.request(Apis.DeleteRecords, { topics: [{ name: 'proto-t', partitions: [{ partitionIndex: 0, offset: 1 }] }], timeoutMs: 10000 });
    assert.equal(dr.topics[0].partitions[0].errorCode, 0);
    assert.equal(dr.topics[0].partitions[0].lowWatermark, 1);

    // a real client reads what kafkit's codec wrote
    if (existsSync('/usr/bin/kcat')) {
      const out = await run('/usr/bin/kcat', ['-C', '-b', `127.0.0.1:${kPort}`, '-t', 'proto-t', '-p', '0', '-o', 'beginning', '-e', '-f', '%o:%s\n'], 30000);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, '1:two\n2:three\n', 'offset 0 was deleted by DeleteRecords');
    }
    const dt = await c.request(Apis.DeleteTopics, { topics: [{ name: 'proto-t' }], topicNames: ['proto-t'], timeoutMs: 10000 });
    assert.equal(dt.responses[0].errorCode, 0);
    assert.equal(dt.responses[0].name, 'proto-t');
  } finally {
    await conn?.close();
    for (const p of procs.reverse()) await p.stop('SIGKILL', 10000);
    removeDir(dir);
  }
});
