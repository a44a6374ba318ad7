# Load for `npm run bench:txn` (librdkafka through confluent-kafka, a separate process):
#   txn_load.py produce <bootstrap> <topic> <records-per-txn> <seconds> <value-bytes>
#       transactions back to back for <seconds>: prints {"txns", "records", "seconds", "commit_ms_p50", "commit_ms_p99"}
#   txn_load.py consume <bootstrap> <topic> <isolation> <count>
#       reads <count> records from the beginning: prints {"records", "bytes", "seconds"}
import json
import sys
import time
from confluent_kafka import Consumer, Producer, TopicPartition


def produce(bootstrap, topic, per_txn, seconds, size):
    p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'bench-%s-%d' % (topic, per_txn), 'linger.ms': 5,
                  'batch.num.messages': 10000, 'queue.buffering.max.messages': 200000})
    p.init_transactions(30)
    value = b'x' * size
    txns = records = 0
    commits = []
    t0 = time.time()
    while time.time() - t0 < seconds:
        p.begin_transaction()
        for _ in range(per_txn):
            while True:
                try:
                    p.produce(topic, value=value)
                    break
                except BufferError:
                    p.poll(0.01)
        c0 = time.time()
        p.commit_transaction(60)
        commits.append((time.time() - c0) * 1000)
        txns += 1
        records += per_txn
    elapsed = time.time() - t0
    commits.sort()
    pct = lambda q: commits[min(len(commits) - 1, int(q * len(commits)))]
    print(json.dumps({'txns': txns, 'records': records, 'seconds': elapsed, 'commit_ms_p50': pct(0.5), 'commit_ms_p99': pct(0.99)}))


def consume(bootstrap, topic, isolation, count):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'bench-%s' % isolation, 'enable.auto.commit': False,
                  'isolation.level': isolation, 'fetch.max.bytes': 52428800})
    c.assign([TopicPartition(topic, 0, 0)])
    n = b = 0
    t0 = None
    deadline = time.time() + 120
    while n < count and time.time() < deadline:
        for m in c.consume(10000, 1.0):
            if m.error():
                continue
            if t0 is None:
                t0 = time.time()
            n += 1
            b += len(m.value() or b'')
    elapsed = time.time() - (t0 or time.time())
    c.close()
    print(json.dumps({'records': n, 'bytes': b, 'seconds': elapsed}))


if sys.argv[1] == 'produce':
    produce(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]))
else:
    consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
