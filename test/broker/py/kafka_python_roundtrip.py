"""kafka-python: admin creates a topic, a producer sends, a group consumer reads and commits.
Usage: kafka_python_roundtrip.py BOOTSTRAP TOPIC COUNT GROUP; prints a JSON summary."""
import json
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

bootstrap, topic, count, group = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='kp-admin')
admin.create_topics([NewTopic(name=topic, num_partitions=2, replication_factor=1)])
topics = admin.list_topics()
producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all')
futures = [producer.send(topic, key=b'k%d' % (i % 5), value=b'kp-%d' % i) for i in range(count)]
producer.flush()
offsets = [f.get(timeout=10).offset for f in futures]
producer.close()
consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset='earliest',
                         enable_auto_commit=False, consumer_timeout_ms=8000)
values = []
for m in consumer:
    values.append(m.value.decode())
    if len(values) >= count:
        break
consumer.commit()
committed = sum((consumer.committed(tp) or 0) for tp in consumer.assignment())
consumer.close()
groups = [g[0] for g in admin.list_consumer_groups()]
admin.close()
print(json.dumps({'topic_listed': topic in topics, 'acked': len(offsets), 'consumed': len(values),
                  'all': sorted(values) == sorted('kp-%d' % i for i in range(count)),
                  'committed': committed, 'group_listed': group in groups}))
