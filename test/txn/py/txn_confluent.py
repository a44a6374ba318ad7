# Transactions through librdkafka (confluent-kafka), driven by test/txn/confluent.test.ts.
#   txn_confluent.py commit-abort <bootstrap> <topic>   commit, abort, commit; print what each isolation level reads
#   txn_confluent.py fence <bootstrap> <topic>          a second producer with the same transactional.id fences the first
#   txn_confluent.py open <bootstrap> <topic> <txid> <n>    produce n records in a transaction and exit without ending it
#   txn_confluent.py resume <bootstrap> <topic> <ready-file> <go-file>   two records in a transaction, wait for go-file, one more, commit
#   txn_confluent.py read <bootstrap> <topic> <isolation> <count> <timeout_s>   print the values read
import json
import os
import sys
import time
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


def producer(bootstrap, txid, **extra):
    conf = {'bootstrap.servers': bootstrap, 'transactional.id': txid, 'linger.ms': 5}
    conf.update(extra)
    return Producer(conf)


def read(bootstrap, topic, isolation, count, timeout_s):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'reader-%d' % os.getpid(), 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False, 'isolation.level': isolation})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.time() + timeout_s
    while len(out) < count and time.time() < deadline:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        out.append(m.value().decode())
    c.close()
    return out


def commit_abort(bootstrap, topic):
    p = producer(bootstrap, 'txn-ca')
    p.init_transactions(30)
    for values, commit in ((['c0', 'c1', 'c2'], True), (['a0', 'a1'], False), (['c3', 'c4'], True)):
        p.begin_transaction()
        for v in values:
            p.produce(topic, value=v.encode(), key=v.encode())
        p.flush(30)  # abort_transaction would purge records not sent yet
        if commit:
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)
    print(json.dumps({'read_committed': read(bootstrap, topic, 'read_committed', 5, 20),
                      'read_uncommitted': read(bootstrap, topic, 'read_uncommitted', 7, 20)}))


def fence(bootstrap, topic):
    a = producer(bootstrap, 'txn-fence')
    a.init_transactions(30)
    a.begin_transaction()
    a.produce(topic, value=b'zombie')
    a.flush(10)
    b = producer(bootstrap, 'txn-fence')
    b.init_transactions(30)  # fences a and aborts its open transaction
    b.begin_transaction()
    b.produce(topic, value=b'fresh')
    b.commit_transaction(30)
    outcome = 'committed'
    try:
        a.produce(topic, value=b'zombie-2')
        a.commit_transaction(10)
    except KafkaException as e:
        err = e.args[0]
        outcome = 'fatal %s' % err.name() if err.fatal() else 'error %s' % err.name()
    print(json.dumps({'zombie': outcome, 'read_committed': read(bootstrap, topic, 'read_committed', 1, 10)}))


def open_txn(bootstrap, topic, txid, n):
    p = producer(bootstrap, txid, **{'transaction.timeout.ms': 3000})
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(n):
        p.produce(topic, value=('open-%d' % i).encode())
    p.flush(10)
    print('produced', flush=True)
    os._exit(0)  # no EndTxn: the coordinator must abort it after transaction.timeout.ms


def resume(bootstrap, topic, ready, go):
    p = producer(bootstrap, 'txn-restart', **{'transaction.timeout.ms': 120000})
    p.init_transactions(30)
    p.begin_transaction()
    for v in ('r0', 'r1'):
        p.produce(topic, value=v.encode())
    p.flush(30)
    open(ready, 'w').close()
    deadline = time.time() + 90
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.05)
    p.produce(topic, value=b'r2')
    p.flush(60)
    p.commit_transaction(60)
    print(json.dumps({'read_committed': read(bootstrap, topic, 'read_committed', 3, 20)}))


def main():
    mode = sys.argv[1]
    if mode == 'commit-abort':
        commit_abort(sys.argv[2], sys.argv[3])
    elif mode == 'fence':
        fence(sys.argv[2], sys.argv[3])
    elif mode == 'open':
        open_txn(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif mode == 'resume':
        resume(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif mode == 'read':
        print(json.dumps(read(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]))))


main()
