"""The nemesis test's load: an idempotent librdkafka producer (acks=all) writing numbered
records to every partition of a topic at a steady rate until its stdin closes, then flushing.
Usage: producer.py BOOTSTRAP TOPIC PARTITIONS RATE ACKFILE
Each acknowledged record is one line in ACKFILE: partition offset value ack-time(ms).
Values are "<partition>:<n>", n counting up from 0 per partition, produced in order.
At the end prints one JSON line: produced, acked, failed, first errors, fatal."""
import json
import os
import select
import sys
import time

from confluent_kafka import KafkaException, Producer

bootstrap, topic, partitions, rate, ackfile = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
out = open(ackfile, 'w', buffering=1 << 16)
state = {'acked': 0, 'failed': 0, 'errors': [], 'fatal': None}


def on_error(err):
    if err.fatal():
        state['fatal'] = str(err)


def on_delivery(err, msg):
    if err is not None:
        state['failed'] += 1
        if len(state['errors']) < 5:
            state['errors'].append(str(err))
        return
    state['acked'] += 1
    out.write('%d %d %s %d\n' % (msg.partition(), msg.offset(), msg.value().decode(), int(time.time() * 1000)))


p = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'acks': 'all', 'linger.ms': 5,
              'compression.type': 'none', 'message.timeout.ms': 120000, 'retry.backoff.ms': 100,
              'socket.timeout.ms': 10000, 'error_cb': on_error})
seq = [0] * partitions
produced = 0
print('producing', flush=True)
start = time.time()
stdin_open = True
while stdin_open and state['fatal'] is None:
    r, _, _ = select.select([sys.stdin], [], [], 0)
    if r and not os.read(sys.stdin.fileno(), 1024):
        stdin_open = False
        break
    due = int((time.time() - start) * rate)
    while produced < due:
        part = produced % partitions
        try:
            p.produce(topic, value=('%d:%d' % (part, seq[part])).encode(), partition=part, on_delivery=on_delivery)
        except BufferError:
            break
        seq[part] += 1
        produced += 1
    p.poll(0.005)
left = p.flush(150)
out.close()
print(json.dumps({'produced': produced, 'acked': state['acked'], 'failed': state['failed'], 'unflushed': left,
                  'errors': state['errors'], 'fatal': state['fatal']}), flush=True)
