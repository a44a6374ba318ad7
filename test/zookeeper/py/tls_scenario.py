"""kazoo over TLS (and SASL) against a ZooKeeper secureClientPort: prints one line per step.
Usage: tls_scenario.py HOST:PORT JSON
  JSON: {"ca": file, "cert": file|null, "key": file|null, "sasl": [user, pw]|null,
         "steps": [["create", path, data, acl-scheme, acl-id] | ["get", path] | ["getacl", path] | ["whoami-create", path]]}"""
import json
import logging
import sys

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry
from kazoo.security import make_acl, OPEN_ACL_UNSAFE

logging.basicConfig(level=logging.CRITICAL)
hosts, spec = sys.argv[1], json.loads(sys.argv[2])
kw = {'use_ssl': True, 'ca': spec['ca'], 'verify_certs': True}
if spec.get('cert'):
    kw.update(certfile=spec['cert'], keyfile=spec['key'])
if spec.get('sasl'):
    kw['sasl_options'] = {'mechanism': 'DIGEST-MD5', 'username': spec['sasl'][0], 'password': spec['sasl'][1]}
c = KazooClient(hosts=hosts, timeout=4, connection_retry=KazooRetry(max_tries=0), command_retry=KazooRetry(max_tries=0), **kw)
try:
    c.start(timeout=6)
except Exception as e:  # noqa: BLE001 - the exception's name is the result
    print('connect', type(e).__name__)
    sys.exit(0)
print('connect OK')
for step in spec.get('steps', []):
    op, path = step[0], step[1]
    try:
        if op == 'create':
            acl = OPEN_ACL_UNSAFE if step[3] == 'world' else [make_acl(step[3], step[4], all=True)]
            out = c.create(path, step[2].encode(), acl=acl)
        elif op == 'get':
            out = c.get(path)[0].decode()
        elif op == 'getacl':
            out = ','.join(sorted('%s:%s:%d' % (a.id.scheme, a.id.id, a.perms) for a in c.get_acls(path)[0]))
        elif op == 'set':
            out = c.set(path, step[2].encode()).version
        elif op == 'children':
            out = sorted(c.get_children(path))
        else:
            raise ValueError(op)
        print(op, path, 'OK', out)
    except Exception as e:  # noqa: BLE001
        print(op, path, type(e).__name__)
c.stop()
