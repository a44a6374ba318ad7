// kafka-acls against Apache Kafka 3.9's kafka-acls.sh on the same kafkit broker (authorizer on):
// the same commands on twin resources print the same lines (exactly where Kafka's order is
// fixed; as sets of blocks and entries where Kafka prints a Scala HashMap), each tool lists
// what the other added, removal with --force, and bad command lines / a broker without an
// authorizer give one line and exit 1.
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {runCommand} from '../helpers/util.js'
import {startApacheZooKeeper, startBrokerProc, type ApacheZooKeeper, type BrokerProc} from '../broker/helpers.js'
import {startSecureBroker, apacheTool, apacheSkip, type SecureBroker} from '../security/helpers.js'

const skip = apacheSkip()
let zk: ApacheZooKeeper
let broker: SecureBroker

before(async () => {
  if (skip) return
  zk = await startApacheZooKeeper()
  broker = await startSecureBroker(zk.connect, {PLAINTEXT: 'PLAINTEXT'}, ['authorizer.class.name=kafka.security.authorizer.AclAuthorizer', 'allow.everyone.if.no.acl.found=true', 'super.users=User:ANONYMOUS'])
})

after(async () => {
  await broker?.cleanup()
  await zk?.stop()
})

const kafkit = (args: string[], input?: string) => runCommand('kafka-acls', ['--bootstrap-server', broker.bootstrap, ...args], {input})
const apache = (args: string[], input?: string) => apacheTool('kafka-acls', ['--bootstrap-server', broker.bootstrap, ...args], {input})

/** Blocks (separated by blank lines) with their entry lines sorted, blocks sorted. */
function normalize(out: string): string[] {
  return out.replace(/^(ACLs for principal .*)\n/gm, '$1\n\n').split(/\n\n+/).map(b => b.trim()).filter(b => b !== '').map(b => {
    const [head, ...rest] = b.split('\n').map(l => l.trim())
    return [head, ...rest.sort()].join('\n')
  }).sort()
}

/** Runs the same command with each tool on twin names (X -> X-k for kafkit, X-a for Apache). */
async function twin(args: (suffix: string) => string[], exact: boolean): Promise<string> {
  const k = await kafkit(args('k'))
  const a = await apache(args('a'))
  assert.equal(k.code, 0, k.stderr)
  assert.equal(a.code, 0, a.stderr)
  const kOut = k.stdout.replace(/-k\b/g, '-X')
  const aOut = a.stdout.replace(/-a\b/g, '-X')
  if (exact) assert.equal(kOut, aOut)
  else assert.deepEqual(normalize(kOut), normalize(aOut))
  return kOut
}

test('--add prints what Kafka prints, for literal and prefixed patterns, allow and deny, hosts, --producer, --consumer, --cluster', {skip}, async () => {
  const one = await twin(s => ['--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', `orders-${s}`], true)
  assert.equal(one, 'Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders-X, patternType=LITERAL)`: \n \t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW) \n\n')
  await twin(s => ['--add', '--allow-principal', 'User:alice', '--allow-principal', 'User:bob', '--allow-host', '10.0.0.1', '--operation', 'Read', '--operation', 'Write', '--topic', `pre-${s}`, '--resource-pattern-type', 'prefixed'], false)
  await twin(s => ['--add', '--deny-principal', 'User:mallory', '--deny-host', '10.0.0.9', '--operation', 'All', '--group', `g-${s}`], true)
  await twin(s => ['--add', '--allow-principal', 'User:bob', '--producer', '--topic', `out-${s}`, '--transactional-id', `tx-${s}`], false)
  await twin(s => ['--add', '--allow-principal', 'User:carol', '--consumer', '--topic', `in-${s}`, '--group', `cg-${s}`], false)
  // The cluster resource is shared: kafkit adds for one principal, Apache for another.
  const k = await kafkit(['--add', '--allow-principal', 'User:idem-k', '--producer', '--topic', 'idem-t', '--idempotent'])
  const a = await apache(['--add', '--allow-principal', 'User:idem-a', '--producer', '--topic', 'idem-t', '--idempotent'])
  assert.equal(k.code, 0, k.stderr)
  assert.deepEqual(normalize(k.stdout.replace(/idem-k/g, 'idem')), normalize(a.stdout.replace(/idem-a/g, 'idem')))
  assert.match(k.stdout, /Adding ACLs for resource `ResourcePattern\(resourceType=CLUSTER, name=kafka-cluster, patternType=LITERAL\)`: \n \t\(principal=User:idem-k, host=\*, operation=IDEMPOTENT_WRITE, permissionType=ALLOW\) \n/)
})

test('--list (all, per resource, match and any filters, --principal) shows the same ACLs as Apache\'s tool', {skip}, async () => {
  for (const args of [
    ['--list'],
    ['--list', '--topic', 'orders-k'],
    ['--list', '--topic', 'pre-a-topic', '--resource-pattern-type', 'match'],
    ['--list', '--topic', 'pre-k', '--resource-pattern-type', 'any'],
    ['--list', '--group', 'cg-a', '--topic', 'in-a'],
    ['--list', '--principal', 'User:bob'],
    ['--list', '--cluster'],
    ['--list', '--topic', 'nothing-here'],
  ]) {
    const k = await kafkit(args)
    const a = await apache(args)
    assert.equal(k.code, 0, k.stderr)
    assert.equal(a.code, 0, a.stderr)
    assert.deepEqual(normalize(k.stdout), normalize(a.stdout), args.join(' '))
  }
  const all = await kafkit(['--list'])
  assert.match(all.stdout, /Current ACLs for resource `ResourcePattern\(resourceType=TRANSACTIONAL_ID, name=tx-a, patternType=LITERAL\)`: \n \t/)
  assert.match(all.stdout, /\(principal=User:mallory, host=10\.0\.0\.9, operation=ALL, permissionType=DENY\)/)
})

test('--remove: one entry, every entry of a resource (--force), and the y/n prompt', {skip}, async () => {
  await twin(s => ['--remove', '--force', '--allow-principal', 'User:bob', '--allow-host', '10.0.0.1', '--operation', 'Write', '--topic', `pre-${s}`, '--resource-pattern-type', 'prefixed'], true)
  await twin(s => ['--remove', '--force', '--topic', `out-${s}`], true)
  const prompt = await kafkit(['--remove', '--group', 'g-k'], 'n\n')
  assert.equal(prompt.code, 0, prompt.stderr)
  const aPrompt = await apache(['--remove', '--group', 'g-a'], 'n\n')
  assert.equal(prompt.stdout.replace(/-k\b/g, '-X'), aPrompt.stdout.replace(/-a\b/g, '-X'))
  const yes = await kafkit(['--remove', '--group', 'g-a'], 'y\n')
  assert.equal(yes.code, 0, yes.stderr)
  const k = await kafkit(['--list'])
  const a = await apache(['--list'])
  assert.deepEqual(normalize(k.stdout), normalize(a.stdout))
  assert.doesNotMatch(k.stdout, /name=out-[ka],|name=g-a,/)
  assert.match(k.stdout, /name=g-k,/)
  assert.match(k.stdout, /principal=User:alice, host=10\.0\.0\.1, operation=WRITE/)
  assert.doesNotMatch(k.stdout, /name=pre-k, patternType=PREFIXED\)`: \n[^`]*principal=User:bob, host=10\.0\.0\.1, operation=WRITE/)
})

test('bad command lines: one line on stderr and exit 1 where Apache\'s tool exits 1', {skip}, async () => {
  const cases: [string[], RegExp][] = [
    [['--topic', 't'], /^Command must include exactly one action: --list, --add, --remove\.\s*$/],
    [['--add', '--list', '--topic', 't'], /^Command must include exactly one action/],
    [['--add', '--producer', '--allow-principal', 'User:a'], /^With --producer you must specify a --topic$/],
    [['--add', '--consumer', '--topic', 't', '--allow-principal', 'User:a'], /^With --consumer you must specify a --topic and a --group/],
    [['--add', '--allow-principal', 'User:a', '--topic', 't', '--resource-pattern-type', 'match'], /^A '--resource-pattern-type' value of 'MATCH' is not valid when adding acls\.$/],
    [['--add', '--topic', 't'], /^You must specify one of: --allow-principal, --deny-principal when trying to add ACLs\.$/],
    [['--add', '--allow-principal', 'User:a'], /^You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --delegation-token <Delegation Token ID>$/],
    [['--add', '--allow-principal', 'User:a', '--operation', 'Write', '--group', 'g'], /^ResourceType GROUP only supports operations /],
    [['--list', '--idempotent'], /^The --idempotent option is only available if --producer is set$/],
  ]
  for (const [args, expected] of cases) {
    const k = await kafkit(args)
    assert.equal(k.code, 1, `${args.join(' ')}: ${k.stdout}${k.stderr}`)
    assert.equal(k.stdout, '')
    assert.match(k.stderr.trim(), expected, args.join(' '))
    assert.equal(k.stderr.trim().split('\n').length, 1)
    const a = await apache(args)
    assert.equal(a.code, 1, `Apache: ${args.join(' ')}`)
    assert.match(a.stderr.split('\n')[0], expected)
  }
  const p = await kafkit(['--add', '--allow-principal', 'alice', '--topic', 't'])
  assert.equal(p.code, 1)
  assert.equal(p.stdout, 'Error while executing ACL command: expected a string in format principalType:principalName but got alice\n')
})

test('a broker without an authorizer: SecurityDisabledException as Kafka reports it, exit 1', {skip}, async () => {
  const plain: BrokerProc = await startBrokerProc(zk.connect + '/noauth')
  try {
    const k = await runCommand('kafka-acls', ['--bootstrap-server', plain.bootstrap, '--list'])
    const a = await apacheTool('kafka-acls', ['--bootstrap-server', plain.bootstrap, '--list'])
    assert.equal(k.code, 1)
    assert.equal(a.code, 1)
    assert.equal(k.stdout, a.stdout.split('\n')[0] + '\n')
    assert.match(k.stdout, /^Error while executing ACL command: org\.apache\.kafka\.common\.errors\.SecurityDisabledException: /)
  } finally {
    await plain.cleanup()
  }
})
