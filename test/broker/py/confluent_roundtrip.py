"""confluent-kafka (librdkafka): idempotent producer with acks=all, then a group consumer.
Usage: confluent_roundtrip.py BOOTSTRAP TOPIC COUNT GROUP; prints a JSON summary."""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer

bootstrap, topic, count, group = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
errors = []
delivered = []


def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        delivered.append(msg.offset())


p = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'acks': 'all', 'linger.ms': 5})
for i in range(count):
    p.produce(topic, key=('k%d' % (i % 10)).encode(), value=('message-%d' % i).encode(), on_delivery=on_delivery)
    if i % 1000 == 0:
        p.poll(0)
left = p.flush(30)

c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
c.subscribe([topic])
values = []
deadline = time.time() + 40
while len(values) < count and time.time() < deadline:
    m = c.poll(0.5)
    if m is None:
        continue
    if m.error():
        if m.error().code() != KafkaError._PARTITION_EOF:
            errors.append(str(m.error()))
        continue
    values.append(m.value().decode())
committed_ok = True
try:
    c.commit(asynchronous=False)
except Exception as e:  # noqa: BLE001
    committed_ok = False
    errors.append('commit: %s' % e)
committed = c.committed(c.assignment(), timeout=10)
c.close()
print(json.dumps({
    'delivered': len(delivered), 'unflushed': left, 'errors': errors[:5], 'consumed': len(values),
    'distinct': len(set(values)), 'all': sorted(values) == sorted('message-%d' % i for i in range(count)),
    'committed': sum(max(tp.offset, 0) for tp in committed), 'committed_ok': committed_ok,
}))
