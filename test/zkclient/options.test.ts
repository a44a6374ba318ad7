// Pure parts of kafkit's ZooKeeper client and shell: the shell's line splitting, Commons CLI's
// option parsing, Java number parsing, connect strings and path validation (no server).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {splitArgs, parseOptions, parseJavaInt, decodeJavaInt, CliError, JavaCrash} from '../../src/core/zkclient/options.js'
import {parseConnectString, validatePath, PathError} from '../../src/core/zkclient/codec.js'

test('splitArgs splits as ZooKeeperMain.parseCommand: quotes keep spaces, a lone quote is skipped', () => {
  assert.deepEqual(splitArgs('create /a "two words" \'x y\''), ['create', '/a', 'two words', 'x y'])
  assert.deepEqual(splitArgs('  ls   /  '), ['ls', '/'])
  assert.deepEqual(splitArgs('"unterminated'), ['unterminated'])
  assert.deepEqual(splitArgs('   '), [' '])
  assert.deepEqual(splitArgs('set /a a"b c"'), ['set', '/a', 'a"b', 'c"'])
})

test('parseOptions follows Commons CLI 1.4 DefaultParser', () => {
  const spec = {e: false, s: false, c: false, t: true}
  assert.deepEqual(parseOptions(spec, ['create', '-es', '/a', 'd']), {opts: new Map([['e', ''], ['s', '']]), args: ['create', '/a', 'd']})
  assert.equal(parseOptions(spec, ['create', '-t5000', '/a']).opts.get('t'), '5000')
  assert.equal(parseOptions(spec, ['create', '-t', '-5', '/a']).opts.get('t'), '-5')
  assert.deepEqual(parseOptions(spec, ['create', '/a', '-e']).args, ['create', '/a'])
  assert.deepEqual(parseOptions(spec, ['create', '--', '-x']).args, ['create', '-x'])
  assert.throws(() => parseOptions(spec, ['create', '-z', '/a']), (e: CliError) => e.message === 'org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -z')
  assert.throws(() => parseOptions(spec, ['create', '-ez', '/a']), /Unrecognized option: -ez$/)
  assert.throws(() => parseOptions(spec, ['create', '-t']), (e: CliError) => e.message === 'org.apache.commons.cli.MissingArgumentException: Missing argument for option: t')
  assert.throws(() => parseOptions(spec, ['create', '-t', '-e', '/a']), /Missing argument for option: t$/)
  assert.throws(() => parseOptions({v: true}, ['set', '/a', '-1']), /Unrecognized option: -1$/)
  const group = {keys: ['n', 'b'], required: true, describe: '[-n n, -b b]'}
  assert.throws(() => parseOptions({n: true, b: true}, ['setquota', '/a'], group), /MissingOptionException: Missing required option: \[-n n, -b b\]$/)
  assert.throws(() => parseOptions({n: true, b: true}, ['setquota', '-n', '1', '-b', '2', '/a'], group), /The option 'b' was specified but an option from this group has already been selected: 'n'$/)
})

test('Java number parsing: Integer.parseInt crashes, Integer.decode reads hex and octal', () => {
  assert.equal(parseJavaInt('-12'), -12)
  assert.throws(() => parseJavaInt('abc'), (e: JavaCrash) => e.message === 'java.lang.NumberFormatException: For input string: "abc"')
  assert.throws(() => parseJavaInt('2147483648'), JavaCrash)
  assert.equal(decodeJavaInt('0x10'), 16)
  assert.equal(decodeJavaInt('010'), 8)
  assert.equal(decodeJavaInt('-3'), -3)
  assert.throws(() => decodeJavaInt('abc'), /For input string: "abc"$/)
})

test('connect strings: several hosts, IPv6 in brackets, default port, chroot; Java\'s errors', () => {
  assert.deepEqual(parseConnectString('a:1,[::1]:2,b/kafka/x'), {hosts: [{host: 'a', port: 1}, {host: '::1', port: 2}, {host: 'b', port: 2181}], chroot: '/kafka/x'})
  assert.deepEqual(parseConnectString('h:2181/'), {hosts: [{host: 'h', port: 2181}], chroot: null})
  assert.throws(() => parseConnectString('h:abc'), {message: 'java.lang.NumberFormatException: For input string: "abc"'})
  assert.throws(() => parseConnectString('[::1'), {message: 'java.lang.IllegalArgumentException: [::1 starts with \'[\' but has no matching \']\''})
  assert.throws(() => parseConnectString(','), {message: 'java.lang.IllegalArgumentException: A HostProvider may not be empty!'})
  assert.throws(() => parseConnectString('h:1/a/'), {message: 'java.lang.IllegalArgumentException: Path must not end with / character'})
})

test('validatePath gives PathUtils\' messages', () => {
  validatePath('/')
  validatePath('/a/b')
  validatePath('/a/', true)
  assert.throws(() => validatePath('a'), (e: PathError) => e.message === 'Path must start with / character')
  assert.throws(() => validatePath('/a//b'), {message: 'Invalid path string "/a//b" caused by empty node name specified @3'})
  assert.throws(() => validatePath('/a/..'), {message: 'Invalid path string "/a/.." caused by relative paths not allowed @4'})
  assert.throws(() => validatePath(''), {message: 'Path length must be > 0'})
})
