// QuorumVerifier (quorum/verifier.ts) alone: majority and hierarchical quorum decisions as
// Apache's QuorumMaj / QuorumHierarchical make them, the text form, and the reconfig request's
// new configuration (reconfig.ts) with Apache's errors.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {verifierFromText, parseVerifier} from '../../src/core/zookeeper/quorum/verifier.js'
import {newConfiguration} from '../../src/core/zookeeper/reconfig.js'
import {ZkError} from '../../src/core/zookeeper/records.js'

const MAJ = 'server.1=a:1:2:participant\nserver.2=b:1:2\nserver.3=c:1:2:participant;2181\nserver.4=d:1:2:observer\nversion=100000000'

test('majority: more than half of the voters; observers do not count', () => {
  const qv = verifierFromText(MAJ, 't')
  assert.deepEqual(qv.voters(), [1, 2, 3])
  assert.deepEqual(qv.observers(), [4])
  assert.equal(qv.containsQuorum([1, 2]), true)
  assert.equal(qv.containsQuorum([1, 4]), false)
  assert.equal(qv.containsQuorum([3, 4, 9]), false)
  assert.equal(qv.version, 0x100000000)
  assert.equal(qv.toString(), 'server.1=a:1:2:participant\nserver.2=b:1:2:participant\nserver.3=c:1:2:participant;0.0.0.0:2181\nserver.4=d:1:2:observer\nversion=100000000')
})

test('hierarchical: a majority of groups, each with more than half of its weight', () => {
  const qv = verifierFromText('server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2\ngroup.1=1:2\ngroup.2=3\ngroup.3=4\nweight.1=2\nweight.2=1\nweight.3=1\nweight.4=1', 't')
  assert.equal(qv.hierarchical, true)
  assert.equal(qv.containsQuorum([1, 3]), true, 'server 1 carries group 1 (2 of 3)')
  assert.equal(qv.containsQuorum([2, 3]), false, 'server 2 alone is 1 of 3 in group 1')
  assert.equal(qv.containsQuorum([3, 4]), true)
  assert.equal(qv.containsQuorum([1, 2]), false, 'one group only')
  assert.equal(qv.containsQuorum([]), false)
  assert.match(qv.toString(), /group\.1=1:2\ngroup\.2=3\ngroup\.3=4\nweight\.1=2\nweight\.2=1\nweight\.3=1\nweight\.4=1\nversion=0$/)
  // A zero-weight server never makes its group's majority.
  const z = verifierFromText('server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2:3\nweight.3=0', 't')
  assert.equal(z.containsQuorum([1, 3]), false)
  assert.equal(z.containsQuorum([1, 2]), true)
})

test('configuration errors as Apache words them', () => {
  assert.throws(() => verifierFromText('server.1=a:1:2\nserver.2=b:1:2\ngroup.1=1', 't'), /Server 2is not in a group/)
  assert.throws(() => verifierFromText('server.1=a:1:2\ngroup.1=1\ngroup.2=1', 't'), /Server 1is in multiple groups/)
  assert.throws(() => parseVerifier([['clientPort', '1']], 't'), /Unrecognised parameter: clientPort/)
})

test('reconfig: incremental and non-incremental new configurations, and refusals', () => {
  const last = verifierFromText(MAJ, 't')
  const removed = newConfiguration({joining: null, leaving: '2,4', members: null, fromConfig: -1}, last)
  assert.deepEqual(removed.members.map(m => m.id), [1, 3])
  const added = newConfiguration({joining: 'server.5=e:1:2;2185', leaving: '1', members: null, fromConfig: -1}, last)
  assert.deepEqual(added.members.map(m => m.id), [2, 3, 4, 5])
  assert.equal(added.member(5)!.clientPort, 2185)
  assert.throws(() => newConfiguration({joining: 'server.5=e:1:2', leaving: null, members: null, fromConfig: -1}, last), (e: unknown) => e instanceof ZkError && e.code === -8)
  assert.throws(() => newConfiguration({joining: 'nonsense', leaving: null, members: null, fromConfig: -1}, last), (e: unknown) => e instanceof ZkError && e.code === -8 && /Wrong format of server string/.test(e.message))
  const members = newConfiguration({joining: null, leaving: null, members: 'server.7=x:1:2;1,server.8=y:1:2;2', fromConfig: -1}, last)
  assert.deepEqual(members.members.map(m => m.id), [7, 8])
  const h = verifierFromText('server.1=a:1:2\nserver.2=b:1:2\ngroup.1=1:2', 't')
  assert.throws(() => newConfiguration({joining: null, leaving: '1', members: null, fromConfig: -1}, h), /non-majority quorum system/)
})
