# A confluent-kafka (librdkafka) consumer with a static group.instance.id and the given
# assignor; prints "assigned <n>" on each assignment and "consumed <n>" as messages arrive,
# runs until killed or for the given seconds.
import sys
import time
from confluent_kafka import Consumer

bootstrap, group, instance, assignor, topic, seconds = sys.argv[1:7]
c = Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': group,
    'group.instance.id': instance,
    'client.id': 'py-' + instance,
    'partition.assignment.strategy': assignor,
    'auto.offset.reset': 'earliest',
    'session.timeout.ms': 6000,
    'heartbeat.interval.ms': 500,
})
def on_assign(consumer, partitions):
    print('assigned', len(partitions), flush=True)
c.subscribe([topic], on_assign=on_assign)
n = 0
end = time.time() + float(seconds)
while time.time() < end:
    m = c.poll(0.2)
    if m is not None and not m.error():
        n += 1
        print('consumed', n, flush=True)
c.close()
