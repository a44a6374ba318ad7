"""confluent-kafka (librdkafka) with a security config: produce COUNT messages, then consume
them back with a group (or only one of the two). Prints one JSON line: what was delivered and
consumed, and the errors librdkafka reported (the first few), so tests can assert refusals.
Usage: secure_client.py BOOTSTRAP TOPIC COUNT MODE CONFIG_JSON
  MODE: roundtrip | produce | consume ; CONFIG_JSON: librdkafka keys (security.protocol, ...)."""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer

bootstrap, topic, count, mode, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])
errors = []
delivered = []
values = []
timeout = float(extra.pop('test.timeout.s', 20))
value_size = int(extra.pop('test.value.size', 0))
throttles = []


def on_error(err):
    errors.append('%s: %s' % (err.name(), err.str()))


def on_delivery(err, msg):
    if err is not None:
        errors.append('%s: %s' % (err.name(), err.str()))
    else:
        delivered.append(msg.offset())


base = dict(extra)
base['bootstrap.servers'] = bootstrap
base['error_cb'] = on_error
base['throttle_cb'] = lambda ev: throttles.append(int(ev.throttle_time * 1000))
if mode in ('roundtrip', 'produce'):
    p = Producer(dict(base, **{'acks': 'all', 'linger.ms': 5, 'message.timeout.ms': int(timeout * 1000)}))
    started = time.time()
    for i in range(count):
        value = ('message-%d' % i).encode()
        if value_size:
            value = value.ljust(value_size, b'x')
        while True:
            try:
                p.produce(topic, value=value, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    p.flush(timeout + 5)
    produce_seconds = time.time() - started
if mode in ('roundtrip', 'consume'):
    c = Consumer(dict({'group.id': 'g-' + topic, 'auto.offset.reset': 'earliest'}, **base))
    c.subscribe([topic])
    deadline = time.time() + timeout
    first_at = last_at = 0.0
    while len(values) < count and time.time() < deadline:
        m = c.poll(0.3)
        if m is None:
            continue
        if m.error():
            if m.error().code() != KafkaError._PARTITION_EOF:
                errors.append('%s: %s' % (m.error().name(), m.error().str()))
                if m.error().fatal() or m.error().code() in (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED):
                    break
            continue
        values.append(m.value().decode())
        last_at = time.time()
        if first_at == 0.0:
            first_at = last_at
    c.close()
print(json.dumps({'delivered': len(delivered), 'consumed': len(values), 'values': values[:3], 'errors': errors[:8],
                  'throttles': len([t for t in throttles if t > 0]), 'max_throttle_ms': max(throttles or [0]),
                  'produce_seconds': round(produce_seconds, 3) if mode in ('roundtrip', 'produce') else 0,
                  'consume_seconds': round(last_at - first_at, 3) if mode in ('roundtrip', 'consume') else 0}))
