"""ACL enforcement on every znode op, as seen by kazoo clients authenticated in different ways
(none, addauth digest, SASL DIGEST-MD5, the super digest). Prints one line per operation:
who, op, path, and the result (OK with what it returned, or the kazoo exception's name), so
that the transcripts of two servers can be compared line by line.
Usage: acl_scenario.py HOST:PORT MODE    MODE: acl (full scenario) | enforced | saslfail"""
import sys
import logging

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry
from kazoo.security import make_acl, make_digest_acl, ACL, Id, Permissions

logging.basicConfig(level=logging.CRITICAL)
hosts, mode = sys.argv[1], sys.argv[2]
PERMS = {Permissions.READ: 'r', Permissions.WRITE: 'w', Permissions.CREATE: 'c', Permissions.DELETE: 'd', Permissions.ADMIN: 'a'}


def client(auth=None, sasl=None):
    kw = {}
    if sasl is not None:
        kw['sasl_options'] = {'mechanism': 'DIGEST-MD5', 'username': sasl[0], 'password': sasl[1]}
    c = KazooClient(hosts=hosts, timeout=8, auth_data=auth or [], connection_retry=KazooRetry(max_tries=0), command_retry=KazooRetry(max_tries=0), **kw)
    c.start(timeout=15)
    return c


def show_acl(acls):
    # Sorted: kazoo keeps auth_data in a set, so the order of a connection's ids varies.
    return ','.join(sorted('%s:%s:%s' % (a.id.scheme, a.id.id, ''.join(v for k, v in PERMS.items() if a.perms & k)) for a in acls))


def attempt(who, op, path, fn):
    try:
        r = fn()
        out = 'OK' if r is None else 'OK %s' % (r,)
    except Exception as e:  # noqa: BLE001 - the exception's name is the result
        out = type(e).__name__
    print('%s %s %s %s' % (who, op, path, out))
    sys.stdout.flush()


def acl_scenario():
    # The owner is also the super user: it can set everything up and put children back.
    owner = client(auth=[('digest', 'alice:alice-pw'), ('digest', 'super:super-pw')], sasl=('kafka', 'kafka-secret'))
    world = make_acl('world', 'anyone', all=True)
    nodes = {
        '/acl/digest': [make_digest_acl('alice', 'alice-pw', all=True)],
        '/acl/readonly': [make_acl('world', 'anyone', read=True)],
        '/acl/sasl': [make_acl('sasl', 'kafka', all=True)],
        '/acl/auth': [ACL(Permissions.ALL, Id('auth', ''))],
        '/acl/mixed': [make_acl('world', 'anyone', read=True), make_digest_acl('bob', 'bob-pw', write=True, create=True),
                       make_acl('sasl', 'admin', admin=True, delete=True)],
        '/acl/ip': [make_acl('ip', '127.0.0.1', read=True), make_acl('ip', '10.0.0.0/8', all=True)],
        '/acl/admin-only': [make_acl('sasl', 'kafka', admin=True), make_digest_acl('carol', 'carol-pw', read=True)],
    }
    owner.create('/acl', b'root', acl=[world])
    for path, acl in nodes.items():
        owner.create(path, b'data', acl=acl)
        owner.create(path + '/child', b'c', acl=[world])
    attempt('owner', 'getacl', '/acl/auth', lambda: show_acl(owner.get_acls('/acl/auth')[0]))
    clients = [
        ('anon', client()),
        ('alice', client(auth=[('digest', 'alice:alice-pw')])),
        ('bob', client(auth=[('digest', 'bob:bob-pw')])),
        ('wrongpw', client(auth=[('digest', 'alice:nope')])),
        ('kafka', client(sasl=('kafka', 'kafka-secret'))),
        ('admin', client(sasl=('admin', 'admin-secret'))),
        ('super', client(auth=[('digest', 'super:super-pw')])),
    ]
    for who, c in clients:
        for path in nodes:
            attempt(who, 'exists', path, lambda: c.exists(path) is not None)
            attempt(who, 'get', path, lambda: c.get(path)[0])
            attempt(who, 'children', path, lambda: sorted(c.get_children(path)))
            attempt(who, 'getacl', path, lambda: show_acl(c.get_acls(path)[0]))
            attempt(who, 'set', path, lambda: c.set(path, b'data').version > 0)
            attempt(who, 'create', path + '/' + who, lambda: c.create(path + '/' + who, b'x', acl=[world]))
            attempt(who, 'delete', path + '/' + who, lambda: c.delete(path + '/' + who))
            owner.ensure_path(path + '/child')
            attempt(who, 'delete', path + '/child', lambda: c.delete(path + '/child'))
            attempt(who, 'setacl', path, lambda: c.set_acls(path, nodes[path]).aversion > 0)

            def multi():
                t = c.transaction()
                t.check(path, -1)
                t.set_data(path, b'data')
                return t.commit()
            attempt(who, 'multi', path, lambda: [type(r).__name__ for r in multi()])
        # ACLs a client may or may not give (auth needs an authenticated id; sasl needs the provider).
        attempt(who, 'create-auth-acl', '/acl/n-' + who, lambda: c.create('/acl/n-' + who, b'', acl=[ACL(Permissions.ALL, Id('auth', ''))]))
        attempt(who, 'create-sasl-acl', '/acl/s-' + who, lambda: c.create('/acl/s-' + who, b'', acl=[make_acl('sasl', 'someone', all=True)]))
        attempt(who, 'create-x509-acl', '/acl/x-' + who, lambda: c.create('/acl/x-' + who, b'', acl=[make_acl('x509', 'CN=someone', all=True)]))
        attempt(who, 'create-bad-digest', '/acl/d-' + who, lambda: c.create('/acl/d-' + who, b'', acl=[make_acl('digest', 'nocolon', all=True)]))
        attempt(who, 'create-unknown-scheme', '/acl/u-' + who, lambda: c.create('/acl/u-' + who, b'', acl=[make_acl('nosuch', 'x', all=True)]))
        c.stop()
    owner.stop()


def sasl_fail():
    # kazoo sometimes reports a refused login as KazooTimeoutError (its connection thread gives up
    # before it hands the AuthFailed state to start()), on Apache's server as on kafkit's: such an
    # attempt is tried again, up to three times, and the last result is printed.
    for name, sasl in [('wrong-password', ('kafka', 'nope')), ('unknown-user', ('mallory', 'x'))]:
        result = None
        for _ in range(3):
            try:
                c = client(sasl=sasl)
                try:
                    c.get('/')
                    result = 'connected'
                except Exception as e:  # noqa: BLE001
                    result = type(e).__name__
                c.stop()
            except Exception as e:  # noqa: BLE001
                result = type(e).__name__
            if result != 'KazooTimeoutError':
                break
        print(name, result)


def enforced():
    c = client(sasl=('kafka', 'kafka-secret'))
    attempt('kafka', 'get', '/', lambda: c.get('/')[0])
    c.stop()
    try:
        c = client(auth=[('digest', 'alice:alice-pw')])
        attempt('alice', 'get', '/', lambda: c.get('/')[0])
        c.stop()
    except Exception as e:  # noqa: BLE001
        print('alice start', type(e).__name__)


{'acl': acl_scenario, 'enforced': enforced, 'saslfail': sasl_fail}[mode]()
