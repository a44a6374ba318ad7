import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseProperties} from '../../src/core/config/properties.js'
import {Settings} from '../../src/core/config/settings.js'

test('Java .properties separators, comments and blank lines', () => {
  const p = parseProperties('# comment\n! also\n\na=1\nb : 2\nc 3\n  d\t=\t4  \ne=\nf\n')
  assert.deepEqual([...p], [['a', '1'], ['b', '2'], ['c', '3'], ['d', '4  '], ['e', ''], ['f', '']])
})

test('continuations, escapes and unicode', () => {
  const p = parseProperties('list=a,\\\n    b,\\\r\n  c\nkey\\ with\\:colon=v\\tx\nu=\\u00e9t\\u00E9\nodd=ends\\\\\n')
  assert.equal(p.get('list'), 'a,b,c')
  assert.equal(p.get('key with:colon'), 'v\tx')
  assert.equal(p.get('u'), 'été')
  assert.equal(p.get('odd'), 'ends\\')
})

test('a comment line does not continue', () => {
  const p = parseProperties('# c \\\nx=1\n')
  assert.equal(p.get('x'), '1')
})

test('values stay strings; typed reads name key, value and file', () => {
  const s = new Settings(parseProperties('broker.id=007\nflag=maybe\n'), 'server.properties')
  assert.equal(s.raw('broker.id'), '007')
  assert.equal(s.int('broker.id', 0), 7)
  assert.throws(() => s.bool('flag', false), /Invalid value maybe for configuration flag in server.properties/)
  assert.deepEqual(s.unused(), [])
})
