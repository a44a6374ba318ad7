# A compacted topic written by transactional producers through librdkafka (confluent-kafka),
# driven by test/txn/compaction.test.ts:
#   compact_confluent.py write <bootstrap> <topic> <dir>
# Two transactional producers, one gzip and one zstd, commit and abort transactions with
# tombstones; filler transactions roll the small segments. Then the script creates <dir>/ready1
# and waits for <dir>/go1 (the test waits for the cleaner meanwhile), and the same producers go
# on (their sequence numbers and epochs must still be accepted after the clean) with more
# filler; <dir>/ready2, wait for <dir>/go2 (the cleaner's pass after the delete horizon); then
# a last commit from each and an 'end' record. It prints as JSON what a read_committed and a
# read_uncommitted consumer read from offset 0 to the 'end' record: [key, value or null, offset].
import json
import os
import sys
import time
from confluent_kafka import Consumer, Producer, TopicPartition


def producer(bootstrap, txid, codec):
    p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': txid, 'linger.ms': 5, 'compression.type': codec})
    p.init_transactions(30)
    return p


def txn(p, topic, pairs, commit=True):
    p.begin_transaction()
    for k, v in pairs:
        p.produce(topic, key=k.encode(), value=None if v is None else v.encode())
    p.flush(30)  # abort_transaction would purge records not sent yet
    if commit:
        p.commit_transaction(30)
    else:
        p.abort_transaction(30)


def filler(p, topic, tag, n):
    for i in range(n):
        txn(p, topic, [('f%d' % (i % 4), '%s-%d-%s' % (tag, i, 'x' * 40))])


def read(bootstrap, topic, isolation, timeout_s):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'reader-%d' % os.getpid(), 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False, 'isolation.level': isolation})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        key = m.key().decode() if m.key() is not None else None
        value = m.value().decode() if m.value() is not None else None
        out.append([key, value, m.offset()])
        if key == 'end':
            break
    c.close()
    return out


def handshake(d, n):
    open(os.path.join(d, 'ready%d' % n), 'w').close()
    deadline = time.time() + 180
    while not os.path.exists(os.path.join(d, 'go%d' % n)) and time.time() < deadline:
        time.sleep(0.05)


def write(bootstrap, topic, d):
    keys = ['k%d' % i for i in range(10)]
    a = producer(bootstrap, 'compact-gzip', 'gzip')
    b = producer(bootstrap, 'compact-zstd', 'zstd')
    txn(a, topic, [(k, 'a1-' + k) for k in keys])
    txn(b, topic, [(k, 'aborted-' + k) for k in keys[:5]] + [('ghost', 'aborted-ghost')], commit=False)
    txn(b, topic, [(k, 'b3-' + k) for k in keys[5:]])
    txn(a, topic, [('k0', None), ('k1', None), ('k2', 'a4-k2')])
    txn(a, topic, [('k2', None), ('k3', 'aborted2-k3')], commit=False)
    filler(a, topic, 'a', 12)
    filler(b, topic, 'b', 12)
    handshake(d, 1)
    # The same producers, after the clean.
    txn(b, topic, [('k4', 'aborted3-k4')], commit=False)
    filler(a, topic, 'c', 12)
    filler(b, topic, 'd', 12)
    handshake(d, 2)
    txn(a, topic, [('k9', 'final-k9')])
    txn(b, topic, [('end', 'end')])
    print(json.dumps({'read_committed': read(bootstrap, topic, 'read_committed', 60),
                      'read_uncommitted': read(bootstrap, topic, 'read_uncommitted', 60)}))


def main():
    if sys.argv[1] == 'write':
        write(sys.argv[2], sys.argv[3], sys.argv[4])


main()
