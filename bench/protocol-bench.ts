// Micro-benchmark of the generated codecs (not a test):
//   node dist/bench/protocol-bench.js
// decode of a Produce request carrying 1 MB of records, encode of a Fetch response carrying
// 100 x 1 MB record chunks (to a list of buffers for writev), plus a Metadata response.
import { Reader, Writer } from '../src/core/protocol/io.js';
import { Apis } from '../src/core/protocol/messages.js';

function time(name: string, iters: number, fn: () => void): void {
  for (let i = 0; i < Math.min(200, iters); i++) fn(); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0) / iters;
  console.log(`${name.padEnd(58)} ${(ns / 1000).toFixed(2).padStart(10)} us/op  (${iters} ops)`);
}

const MB = 1 << 20;
const records = Buffer.alloc(MB, 1);
for (const v of [7, 9, 11]) {
  const w = new Writer();
  Apis.Produce.encodeRequest(w, v, { acks: -1, timeoutMs: 30000, topicData: [{ name: 'bench-topic', partitionData: [{ index: 0, records }] }] });
  const req = w.toBuffer();
  let sink = 0;
  time(`decode Produce v${v} request, 1 MB records`, 200000, () => {
    const m = Apis.Produce.decodeRequest(new Reader(req), v);
    sink += m.topicData[0].partitionData[0].records!.length;
  });
  if (sink === 0) throw new Error('unreachable');
}

const chunks = Array.from({ length: 100 }, (_, i) => Buffer.alloc(MB, i));
for (const v of [11, 12, 16]) {
  const resp = {
    responses: [{
      topic: 'bench-topic', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
      partitions: chunks.map((records, partitionIndex) => ({ partitionIndex, highWatermark: 1e9, lastStableOffset: 1e9, logStartOffset: 0, records })),
    }],
  };
  let bytes = 0;
  time(`encode Fetch v${v} response, 100 x 1 MB records (toBuffers)`, 20000, () => {
    const w = new Writer();
    Apis.Fetch.encodeResponse(w, v, resp);
    w.toBuffers();
    bytes = w.length;
  });
  if (bytes < 100 * MB) throw new Error('short encode');
}

const md = {
  brokers: [1, 2, 3].map((nodeId) => ({ nodeId, host: `broker-${nodeId}.example`, port: 9092 })),
  clusterId: 'AAAAAAAAAAAAAAAAAAAAAQ', controllerId: 1,
  topics: Array.from({ length: 100 }, (_, t) => ({
    name: `topic-${t}`, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
    partitions: Array.from({ length: 10 }, (_, p) => ({ partitionIndex: p, leaderId: 1 + (p % 3), leaderEpoch: 5, replicaNodes: [1, 2, 3], isrNodes: [1, 2, 3] })),
  })),
};
for (const v of [6, 12]) {
  let buf: Buffer = Buffer.alloc(0);
  time(`encode Metadata v${v} response, 100 topics x 10 partitions`, 2000, () => {
    const w = new Writer();
    Apis.Metadata.encodeResponse(w, v, md);
    buf = w.toBuffer();
  });
  time(`decode Metadata v${v} response, 100 topics x 10 partitions`, 2000, () => {
    Apis.Metadata.decodeResponse(new Reader(buf), v);
  });
}
