#!/usr/bin/env python3
"""Load generator for `npm run bench`: produces then consumes through librdkafka
(confluent-kafka-python), from a process separate from the broker. Prints one JSON line."""
import json
import os
import sys
import time

# Extra librdkafka settings (e.g. security.protocol=SSL for bench:tls), as a JSON object.
EXTRA = json.loads(os.environ.get('RDKAFKA_EXTRA', '{}'))

from confluent_kafka import Consumer, Producer, TopicPartition


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, int(round(p / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[k]


def produce(bootstrap, topic, count, size, acks):
    """As fast as the producer takes them. Delivery reports come back for failures only: a Python
    callback per record costs the client more CPU than the broker spends on the record, and the
    client, not the broker, would set the rate (it did: one core at 100%). Latency is the
    produce requests' round trip as librdkafka measures it (its statistics, every second)."""
    errors = [0]
    rtts = []

    def on_err(err, msg):
        errors[0] += 1

    def on_stats(js):
        for b in json.loads(js).get('brokers', {}).values():
            r = b.get('rtt', {})
            if b.get('nodeid', -1) >= 0 and r.get('cnt', 0) > 0:
                rtts.append((r['cnt'], r['p50'] / 1000.0, r['p99'] / 1000.0))

    p = Producer({
        'bootstrap.servers': bootstrap,
        'acks': acks,
        'linger.ms': 5,
        'batch.size': 1048576,
        'batch.num.messages': 100000,
        'queue.buffering.max.messages': 500000,
        'queue.buffering.max.kbytes': 1048576,
        'enable.idempotence': acks == 'all',
        'compression.type': 'none',
        'delivery.report.only.error': True,
        'on_delivery': on_err,
        'statistics.interval.ms': 1000,
        'stats_cb': on_stats,
        **EXTRA,
    })
    payload = b'x' * size
    start = time.perf_counter()
    for i in range(count):
        while True:
            try:
                p.produce(topic, payload)
                break
            except BufferError:
                p.poll(0.005)
        if i % 1000 == 0:
            p.poll(0)
    remaining = p.flush(120)
    elapsed = time.perf_counter() - start
    # Each statistics window's percentiles, weighted by its request count.
    def weighted(k):
        total = sum(w[0] for w in rtts)
        return sum(w[0] * w[k] for w in rtts) / total if total else None
    return {
        'records': count, 'seconds': elapsed, 'records_per_s': count / elapsed,
        'mb_per_s': count * size / elapsed / 1048576.0,
        'p50_ms': weighted(1), 'p99_ms': weighted(2), 'errors': errors[0], 'unflushed': remaining,
    }


def consume(bootstrap, topic, count, size, partitions=1):
    c = Consumer({
        'bootstrap.servers': bootstrap,
        'group.id': 'bench-%d' % int(time.time() * 1000),
        'enable.auto.commit': False,
        'auto.offset.reset': 'earliest',
        'fetch.max.bytes': 52428800,
        'max.partition.fetch.bytes': 10485760,
        'fetch.wait.max.ms': 100,
        **EXTRA,
    })
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got = 0
    nbytes = 0
    start = None
    deadline = time.time() + 180
    while got < count and time.time() < deadline:
        msgs = c.consume(num_messages=10000, timeout=1.0)
        for m in msgs:
            if m.error():
                continue
            if start is None:
                start = time.perf_counter()
            got += 1
            nbytes += len(m.value())
    elapsed = time.perf_counter() - (start or time.perf_counter())
    c.close()
    return {'records': got, 'seconds': elapsed, 'records_per_s': got / elapsed if elapsed else 0,
            'mb_per_s': nbytes / elapsed / 1048576.0 if elapsed else 0}


def e2e_produce(bootstrap, topic, rate, seconds, size):
    """Produces at a fixed rate; each value starts with its send time (ns since the epoch)."""
    p = Producer({'bootstrap.servers': bootstrap, 'acks': '1', 'linger.ms': 0, 'compression.type': 'none',
                  'queue.buffering.max.messages': 1000000})
    pad = b'x' * max(0, size - 20)
    start = time.time()
    sent = 0
    behind = 0
    while True:
        now = time.time()
        if now - start >= seconds:
            break
        due = int((now - start) * rate)
        if due - sent > rate // 10:
            behind += 1
        while sent < due:
            try:
                p.produce(topic, value=b'%020d' % time.time_ns() + pad)
            except BufferError:
                p.poll(0.001)
                continue
            sent += 1
        p.poll(0)
        time.sleep(0.0005)
    p.flush(60)
    return {'sent': sent, 'rate': rate, 'seconds': seconds, 'achieved_rate': sent / seconds, 'fell_behind': behind}


def e2e_consume(bootstrap, topic, count, seconds):
    """Reads from the end until count records (or the deadline); latency = receive time - send time."""
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'e2e-%d' % int(time.time() * 1000),
                  'enable.auto.commit': False, 'auto.offset.reset': 'latest', 'fetch.wait.max.ms': 10,
                  'fetch.min.bytes': 1})
    c.assign([TopicPartition(topic, 0, -1)])
    print(json.dumps({'ready': True}), flush=True)
    lat = []
    deadline = time.time() + seconds + 60
    while len(lat) < count and time.time() < deadline:
        # consume() returns after its timeout or num_messages: a short timeout, so that waiting
        # for a batch to fill does not count as latency.
        for m in c.consume(num_messages=1000, timeout=0.001):
            if m.error():
                continue
            lat.append((time.time_ns() - int(m.value()[:20])) / 1e6)
    c.close()
    lat.sort()
    return {'received': len(lat), 'p50_ms': pct(lat, 50), 'p99_ms': pct(lat, 99), 'p999_ms': pct(lat, 99.9), 'max_ms': lat[-1] if lat else None}


def main():
    mode, bootstrap, topic, count, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    if mode == 'create':
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({'bootstrap.servers': bootstrap, **EXTRA})
        fs = a.create_topics([NewTopic(topic, num_partitions=count, replication_factor=size)])
        for f in fs.values():
            f.result(90)
        print(json.dumps({'created': topic}))
    elif mode == 'e2e-produce':
        print(json.dumps(e2e_produce(bootstrap, topic, int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]))))
    elif mode == 'e2e-consume':
        print(json.dumps(e2e_consume(bootstrap, topic, int(sys.argv[4]), float(sys.argv[5]))))
    elif mode == 'produce':
        acks = sys.argv[6]
        print(json.dumps(produce(bootstrap, topic, count, size, acks)))
    else:
        print(json.dumps(consume(bootstrap, topic, count, size, int(sys.argv[6]) if len(sys.argv) > 6 else 1)))


if __name__ == '__main__':
    main()
