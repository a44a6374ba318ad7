"""Kafka-shaped znodes and their ACLs, for zookeeper-security-migration tests.
Usage: acl_dump.py HOST:PORT populate|dump
  populate: creates a Kafka-like tree with world-open ACLs (as a broker without zookeeper.set.acl).
  dump: prints every znode with its ACL (sorted), read as the super user (super:super-pw)."""
import logging
import sys

from kazoo.client import KazooClient

logging.basicConfig(level=logging.CRITICAL)
hosts, mode = sys.argv[1], sys.argv[2]
c = KazooClient(hosts=hosts, timeout=8, auth_data=[('digest', 'super:super-pw')])
c.start(timeout=15)
if mode == 'populate':
    for p in ['/brokers/ids/0', '/brokers/topics/t/partitions/0/state', '/brokers/seqid', '/config/users/alice', '/config/brokers/0',
              '/config/topics/t', '/config/changes/config_change_0000000000', '/consumers/g/offsets', '/admin/delete_topics',
              '/controller_epoch', '/cluster/id', '/kafka-acl/Topic/t', '/isr_change_notification', '/latest_producer_id_block',
              '/log_dir_event_notification', '/feature', '/unrelated/child']:
        c.ensure_path(p)
    c.create('/controller', b'{"brokerid":0}')
else:
    def walk(path):
        acl = c.get_acls(path)[0]
        print(path, ','.join(sorted('%s:%s:%d' % (a.id.scheme, a.id.id, a.perms) for a in acl)))
        for child in sorted(c.get_children(path)):
            if path == '/' and child == 'zookeeper':
                continue
            walk(('' if path == '/' else path) + '/' + child)
    walk('/')
c.stop()
