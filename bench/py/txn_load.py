# Load for `npm run bench:txn` (librdkafka through confluent-kafka, a separate process):
#   txn_load.py produce <bootstrap> <topic> <records-per-txn> <seconds> <value-bytes>
#       transactions back to back for <seconds>: prints {"txns", "records", "seconds", "commit_ms_p50", "commit_ms_p99"}
#   txn_load.py fill <bootstrap> <topic> <txns> <records-per-txn> <value-bytes> <abort-every>
#       exactly <txns> transactions of <records-per-txn> records, every <abort-every>th one aborted:
#       prints {"committed", "aborted", "total"} (data records, not counting control records)
#   txn_load.py consume <bootstrap> <topic> <isolation> <count>
#       reads from the beginning until <count> records arrived (fails after 300 s without them):
#       prints {"records", "bytes", "seconds"}, the clock running from the first record to the last
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
        send_all(p, topic, value, per_txn)
        c0 = time.time()
        p.commit_transaction(60)
        commits.append((time.time() - c0) * 1000)
        txns += 1
        records += per_txn
    elapsed = time.time() - t0
    commits.sort()
    pct = lambda q: commits[min(len(commits) - 1, int(q * len(commits)))]
    print(json.dumps({'txns': txns, 'records': records, 'seconds': elapsed, 'commit_ms_p50': pct(0.5), 'commit_ms_p99': pct(0.99)}))


def send_all(p, topic, value, n):
    """Produces n records, polling while the client's queue is full."""
    for _ in range(n):
        while True:
            try:
                p.produce(topic, value=value)
                break
            except BufferError:
                p.poll(0.01)


def fill(bootstrap, topic, txns, per_txn, size, abort_every):
    p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'bench-fill-%s' % topic, 'linger.ms': 5,
                  'batch.num.messages': 10000, 'queue.buffering.max.messages': 200000})
    p.init_transactions(30)
    value = b'x' * size
    committed = aborted = 0
    for i in range(txns):
        p.begin_transaction()
        send_all(p, topic, value, per_txn)
        if (i + 1) % abort_every == 0:
            # Flushed first, so the aborted records are in the log (not only dropped client-side).
            p.flush(60)
            p.abort_transaction(60)
            aborted += per_txn
        else:
            p.commit_transaction(60)
            committed += per_txn
    print(json.dumps({'committed': committed, 'aborted': aborted, 'total': committed + aborted}))


def consume(bootstrap, topic, isolation, count):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'bench-%s' % isolation, 'enable.auto.commit': False,
                  'isolation.level': isolation, 'fetch.max.bytes': 52428800})
    c.assign([TopicPartition(topic, 0, 0)])
    n = b = 0
    t0 = t1 = None
    deadline = time.time() + 300
    while n < count:
        if time.time() > deadline:
            sys.stderr.write('consume %s: %d of %d records after 300 s\n' % (isolation, n, count))
            sys.exit(1)
        for m in c.consume(10000, 1.0):
            if m.error():
                continue
            if t0 is None:
                t0 = time.time()
            n += 1
            b += len(m.value() or b'')
            if n == count:
                t1 = time.time()
                break
    c.close()
    print(json.dumps({'records': n, 'bytes': b, 'seconds': t1 - t0}))


if sys.argv[1] == 'produce':
    produce(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]))
elif sys.argv[1] == 'fill':
    fill(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
else:
    consume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
