// Golden bytes from real clients: kafkajs (ApiVersions v2, Metadata) and librdkafka's kcat
// (ApiVersions v3, flexible Metadata) talk to a fake server that decodes their requests
// and answers with kafkit's encoders; the clients must accept the answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Apis } from '../../src/core/protocol/messages.js';
import { FakeBroker, type Handler } from './fake-broker.js';

function metadataHandler(port: () => number): Handler {
  return (h, req) => {
    if (h.apiKey !== Apis.Metadata.apiKey) return undefined;
    const asked: string[] | null = req.topics === null ? null : req.topics.map((t: { name: string }) => t.name);
    const names = asked ?? ['golden'];
    return {
      brokers: [{ nodeId: 1, host: '127.0.0.1', port: port(), rack: null }],
      clusterId: 'kafkit-cluster',
      controllerId: 1,
      topics: names.map((name) => ({
        errorCode: 0,
        name,
        topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
        partitions: [0, 1].map((p) => ({ errorCode: 0, partitionIndex: p, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1] })),
      })),
    };
  };
}

test('kafkajs: ApiVersions v2 and Metadata requests decode; it accepts our Metadata response', async () => {
  let port = 0;
  const fake = new FakeBroker(metadataHandler(() => port)).support(Apis.ApiVersions).support(Apis.Metadata, 12);
  port = await fake.listen();
  const kafka = new Kafka({ clientId: 'golden-js', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const md = await admin.fetchTopicMetadata({ topics: ['alpha'] });
    assert.equal(md.topics.length, 1);
    assert.equal(md.topics[0].name, 'alpha');
    assert.deepEqual(md.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1]);
    assert.equal(md.topics[0].partitions[0].leader, 1);

    const first = fake.frames[0];
    assert.equal(first.header.apiKey, 18);
    assert.equal(first.header.apiVersion, 2);
    assert.equal(first.header.headerVersion, 1);
    assert.equal(first.header.clientId, 'golden-js');
    assert.deepEqual(first.body, { clientSoftwareName: '', clientSoftwareVersion: '' }, 'v2 has no fields: defaults');
    assert.equal(first.frame.length, 8 + 2 + 'golden-js'.length, 'fixed header + clientId, nothing else');

    const mds = fake.frames.filter((f) => f.header.apiKey === 3);
    assert.ok(mds.length >= 1, 'kafkajs sent a Metadata request');
    const last = mds[mds.length - 1];
    assert.ok(last.header.apiVersion <= 6, `kafkajs Metadata v${last.header.apiVersion}`);
    assert.equal(last.header.clientId, 'golden-js');
    assert.deepEqual((last.body as { topics: { name: string }[] }).topics.map((t) => t.name), ['alpha']);
    // correlation ids increase per connection
    assert.ok(last.header.correlationId > first.header.correlationId);
  } finally {
    await admin.disconnect();
    await fake.close();
  }
});

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

test('kcat (librdkafka): ApiVersions v3 (flexible) decodes; kcat -L prints our Metadata', async () => {
  const kcat = '/usr/bin/kcat';
  assert.ok(existsSync(kcat), 'kcat is not installed (/usr/bin/kcat): run ../shared/tools/install-peers');
  let port = 0;
  const fake = new FakeBroker(metadataHandler(() => port)).support(Apis.ApiVersions).support(Apis.Metadata, 12);
  port = await fake.listen();
  try {
    const out = await run(kcat, ['-L', '-b', `127.0.0.1:${port}`, '-m', '10'], 20000);
    assert.equal(out.code, 0, `kcat failed: ${out.stderr}`);
    assert.match(out.stdout, /1 brokers:\s+broker 1 at 127\.0\.0\.1:\d+ \(controller\)/);
    assert.match(out.stdout, /topic "golden" with 2 partitions:/);
    assert.match(out.stdout, /partition 1, leader 1, replicas: 1, isrs: 1/);

    const first = fake.frames[0];
    assert.equal(first.header.apiKey, 18);
    assert.equal(first.header.apiVersion, 3);
    assert.equal(first.header.headerVersion, 2);
    assert.equal(first.header.clientId, 'rdkafka');
    const body = first.body as { clientSoftwareName: string; clientSoftwareVersion: string };
    assert.equal(body.clientSoftwareName, 'librdkafka');
    assert.match(body.clientSoftwareVersion, /^\d+\.\d+\.\d+/);

    const mds = fake.frames.filter((f) => f.header.apiKey === 3);
    assert.ok(mds.length > 0, 'kcat sent a Metadata request');
    for (const md of mds) assert.ok(md.header.apiVersion >= 4, `librdkafka Metadata v${md.header.apiVersion}`);
    const topics = mds.map((md) => JSON.stringify((md.body as { topics: unknown }).topics));
    assert.ok(topics.includes('null'), `-L asks for all topics (null); got ${topics.join(' ')}`);
  } finally {
    await fake.close();
  }
});

test('an unsupported ApiVersions version gets error 35 and the list at v0 (kcat retries lower)', async () => {
  const kcat = '/usr/bin/kcat';
  assert.ok(existsSync(kcat), 'kcat is not installed (/usr/bin/kcat): run ../shared/tools/install-peers');
  let port = 0;
  // advertise ApiVersions up to v2 only: librdkafka's v3 attempt must be refused, then retried
  const fake = new FakeBroker(metadataHandler(() => port)).support(Apis.ApiVersions, 2).support(Apis.Metadata, 8);
  port = await fake.listen();
  try {
    const out = await run(kcat, ['-L', '-b', `127.0.0.1:${port}`, '-m', '10'], 20000);
    assert.equal(out.code, 0, `kcat failed: ${out.stderr}`);
    assert.match(out.stdout, /topic "golden" with 2 partitions:/);
    const av = fake.frames.filter((f) => f.header.apiKey === 18).map((f) => f.header.apiVersion);
    assert.equal(av[0], 3);
    assert.ok(av.some((v) => v < 3), `ApiVersions versions tried: ${av.join(',')}`);
    const md = fake.frames.find((f) => f.header.apiKey === 3)!;
    assert.ok(md.header.apiVersion <= 8);
  } finally {
    await fake.close();
  }
});

test('Java client (Apache Kafka 3.9 kafka-topics) reads our flexible responses', { timeout: 90000 }, async (t) => {
  const tool = join(homedir(), '.cache', 'apache-kafka-3.9', 'bin', 'kafka-topics');
  if (!existsSync(tool)) {
    t.skip(`Apache Kafka 3.9 is not installed (${tool}): run ../shared/tools/apache-kafka`);
    return;
  }
  let port = 0;
  const fake = new FakeBroker((h, req) => {
    if (h.apiKey === Apis.Metadata.apiKey) {
      return {
        brokers: [{ nodeId: 1, host: '127.0.0.1', port }], clusterId: 'AAAAAAAAAAAAAAAAAAAAAQ', controllerId: 1,
        topics: [{ name: 'jt', topicId: 'AAAAAAAAAAAAAAAAAAAAAg', partitions: [{ partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }] }],
      };
    }
    if (h.apiKey === Apis.DescribeCluster.apiKey) return { brokers: [{ brokerId: 1, host: '127.0.0.1', port }], clusterId: 'AAAAAAAAAAAAAAAAAAAAAQ', controllerId: 1 };
    if (h.apiKey === Apis.DescribeConfigs.apiKey) {
      return {
        results: req.resources.map((r: { resourceType: number; resourceName: string }) => ({
          errorCode: 0, resourceType: r.resourceType, resourceName: r.resourceName,
          configs: [{ name: 'retention.ms', value: '1000', configSource: 1, isSensitive: false, readOnly: false }],
        })),
      };
    }
    return undefined;
  }).support(Apis.ApiVersions).support(Apis.Metadata).support(Apis.DescribeCluster).support(Apis.DescribeConfigs);
  port = await fake.listen();
  try {
    const out = await run(tool, ['--bootstrap-server', `127.0.0.1:${port}`, '--describe', '--topic', 'jt'], 60000);
    assert.equal(out.code, 0, `kafka-topics failed: ${out.stderr}`);
    assert.equal(out.stdout,
      'Topic: jt\tTopicId: AAAAAAAAAAAAAAAAAAAAAg\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: retention.ms=1000\n' +
      '\tTopic: jt\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: N/A\tLastKnownElr: N/A\n');
    const av = fake.frames[0];
    assert.equal(av.header.apiKey, 18);
    assert.equal(av.header.apiVersion, Apis.ApiVersions.maxVersion);
    assert.equal((av.body as { clientSoftwareName: string }).clientSoftwareName, 'apache-kafka-java');
    const md = fake.frames.find((f) => f.header.apiKey === 3)!;
    assert.equal(md.header.apiVersion, 12);
    assert.equal(md.header.headerVersion, 2);
  } finally {
    await fake.close();
  }
});

test('kafka-python: ApiVersions v0 and Metadata v0/v1 decode; it reads our answers', async () => {
  const py = '/usr/bin/python3';
  assert.ok(existsSync(py), 'python3 is not installed (/usr/bin/python3): run ../shared/tools/install-peers');
  let port = 0;
  const fake = new FakeBroker(metadataHandler(() => port));
  for (const a of Object.values(Apis)) if (a.listeners.includes('zkBroker')) fake.support(a);
  port = await fake.listen();
  try {
    const script = [
      'from kafka import KafkaConsumer',
      `c = KafkaConsumer(bootstrap_servers='127.0.0.1:${port}', client_id='golden-py', api_version_auto_timeout_ms=10000)`,
      "print(sorted(c.topics()), sorted(c.partitions_for_topic('golden')))",
      'c.close()',
    ].join('\n');
    const out = await run(py, ['-c', script], 30000);
    assert.equal(out.code, 0, `kafka-python failed (is python3-kafka installed?): ${out.stderr.slice(-500)}`);
    assert.equal(out.stdout.trim(), "['golden'] [0, 1]");
    const first = fake.frames[0];
    assert.deepEqual([first.header.apiKey, first.header.apiVersion, first.header.clientId], [18, 0, 'golden-py']);
    assert.ok(fake.frames.some((f) => f.header.apiKey === 3 && f.header.apiVersion <= 1 && f.header.clientId === 'golden-py'));
  } finally {
    await fake.close();
  }
});
