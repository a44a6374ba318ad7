"""Idempotent librdkafka producer (acks=all) that keeps producing while the test kills the
partition leader, then a consumer that reads everything back.
Usage: confluent_failover.py BOOTSTRAP TOPIC COUNT; prints 'producing' when it starts, then
one JSON line: delivered, errors, consumed, missing (acked but not read), duplicates."""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
delivered = set()
errors = []


def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        delivered.add(msg.value().decode())
        if len(delivered) == 500:
            print('acked 500', flush=True)


p = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'acks': 'all', 'linger.ms': 2,
              'message.timeout.ms': 60000, 'retry.backoff.ms': 200})
print('producing', flush=True)
for i in range(count):
    while True:
        try:
            p.produce(topic, value=('f%d' % i).encode(), on_delivery=on_delivery)
            break
        except BufferError:
            p.poll(0.05)
    if i % 100 == 0:
        p.poll(0)
        time.sleep(0.02)
left = p.flush(90)

c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'failover-reader', 'auto.offset.reset': 'earliest',
              'enable.auto.commit': False})
c.subscribe([topic])
seen = []
deadline = time.time() + 60
while len(set(seen)) < len(delivered) and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    seen.append(m.value().decode())
c.close()
s = set(seen)
print(json.dumps({'delivered': len(delivered), 'unflushed': left, 'errors': errors[:5], 'consumed': len(seen),
                  'missing': len(delivered - s), 'duplicates': len(seen) - len(s)}))
