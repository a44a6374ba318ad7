// Per-namespace read/write summaries (mntr's *_per_namespace) and the Java hash order their
// namespaces are listed in.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {JavaHashOrder, NamespaceStats, topNamespace} from '../../src/core/zookeeper/namespace-stats.js'

test('namespaces come out in the order of a java.util.concurrent.ConcurrentHashMap, resizes included', () => {
  // Expected orders printed by ConcurrentHashMap.keySet() on OpenJDK for the same puts.
  const o = new JavaHashOrder()
  const seen: Record<number, string> = {}
  for (let i = 0; i < 40; i++) {
    o.add((i % 3 === 0 ? 'ns' : i % 3 === 1 ? 'kafka' : 'z') + i)
    seen[i] = o.keys().join(',')
  }
  assert.equal(seen[12], 'ns0,kafka7,ns3,ns6,kafka4,ns9,kafka10,ns12,kafka1,z2,z5,z11,z8')
  assert.equal(seen[39], 'z29,ns0,kafka7,ns3,ns6,ns30,kafka4,kafka31,ns9,kafka10,ns12,kafka1,ns33,kafka34,kafka13,z32,ns39,ns15,kafka37,z11,kafka16,ns36,z14,z35,kafka19,z38,ns18,z17,ns24,kafka22,ns21,z2,z20,kafka25,ns27,z23,z5,kafka28,z8,z26')
})

test('a write counts path + data bytes, a read path + returned bytes; "/" has no namespace', () => {
  assert.equal(topNamespace('/'), null)
  assert.equal(topNamespace('/kafka'), 'kafka')
  assert.equal(topNamespace('/kafka/brokers/ids'), 'kafka')
  const s = new NamespaceStats()
  s.write('/ns1', 2)
  s.write('/ns1/x', 3)
  s.write('/', 0)
  s.read('/ns1/x', 5 + 68)
  s.read('/ns1', 68)
  s.read('/ns1', 1 + 68)
  assert.deepEqual(s.lines().map(([k, v]) => `${k}=${v}`), [
    'avg_ns1_read_per_namespace=74.6667', 'min_ns1_read_per_namespace=72', 'max_ns1_read_per_namespace=79', 'cnt_ns1_read_per_namespace=3', 'sum_ns1_read_per_namespace=224',
    'avg_ns1_write_per_namespace=7.5', 'min_ns1_write_per_namespace=6', 'max_ns1_write_per_namespace=9', 'cnt_ns1_write_per_namespace=2', 'sum_ns1_write_per_namespace=15',
  ])
})

test('requests moving between namespaces are counted under the right one', () => {
  const s = new NamespaceStats()
  for (const p of ['/a/x', '/ab/x', '/a', '/b', '/a/y/z', '/ab']) s.write(p, 0)
  const counts = Object.fromEntries(s.lines().filter(([k]) => k.startsWith('cnt_')).map(([k, v]) => [k, v]))
  assert.deepEqual(counts, {cnt_a_write_per_namespace: 3, cnt_ab_write_per_namespace: 2, cnt_b_write_per_namespace: 1})
})
