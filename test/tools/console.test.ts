// kafka-console-producer and kafka-console-consumer, typed as a user types them, against a
// real broker (kafkit's when built, else Apache Kafka 3.9; KAFKIT_TOOLS_TARGET picks).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {runCommand, startCommand, binDir, freePort, waitFor} from '../helpers/util.js'
import {apacheKafkaHome, runApacheTool, startCluster, targetSkipReason, type Cluster} from './apache-kafka.js'

let cluster: Cluster | undefined
let B = ''

before(async () => {
  const reason = targetSkipReason()
  if (reason) throw new Error(`console tool tests need a broker: ${reason}`)
  cluster = await startCluster()
  B = cluster.bootstrap
})

after(async () => {
  await cluster?.stop()
})

const createTopic = async (topic: string, partitions = 1) => {
  const r = await runCommand('kafka-topics', ['--create', '--bootstrap-server', B, '--topic', topic, '--partitions', String(partitions), '--replication-factor', '1'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
}

test('a piped file arrives complete and in order', async () => {
  await createTopic('piped')
  const n = 20000
  const lines: string[] = []
  for (let i = 0; i < n; i++) lines.push(`line-${i}-${'x'.repeat(i % 97)}`)
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'piped'], {input: lines.join('\n') + '\n'})
  assert.equal(p.code, 0, p.stderr)
  assert.equal(p.stdout, '')
  const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'piped', '--from-beginning', '--max-messages', String(n)])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stderr, `Processed a total of ${n} messages\n`)
  assert.equal(c.stdout, lines.join('\n') + '\n')
})

test('--broker-list alias, CRLF input and a last line without newline', async () => {
  await createTopic('alias')
  const p = await runCommand('kafka-console-producer', ['--broker-list', B, '--topic', 'alias'], {input: 'one\r\ntwo\r\nthree'})
  assert.equal(p.code, 0, p.stderr)
  const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'alias', '--from-beginning', '--max-messages', '3'])
  assert.equal(c.stdout, 'one\ntwo\nthree\n')
})

// Partitions Apache Kafka 3.9's Java console producer chose for these keys (3 partitions).
const JAVA_PARTITIONS: Record<string, number> = {a: 1, b: 2, c: 1, d: 2, e: 2, foo: 2}

test('keyed records go to the partition the Java client chooses; print.* properties', async () => {
  await createTopic('keyed', 3)
  const input = Object.keys(JAVA_PARTITIONS).map(k => `${k}\tvalue-${k}`).join('\n') + '\n'
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'keyed', '--property', 'parse.key=true'], {input})
  assert.equal(p.code, 0, p.stderr)
  const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'keyed', '--from-beginning', '--max-messages', '6',
    '--property', 'print.key=true', '--property', 'print.partition=true', '--property', 'print.offset=true', '--property', 'print.timestamp=true', '--property', 'print.headers=true'])
  assert.equal(c.code, 0, c.stderr)
  const rows = c.stdout.trim().split('\n')
  assert.equal(rows.length, 6)
  for (const row of rows) {
    const m = /^CreateTime:(\d+)\tPartition:(\d)\tOffset:(\d+)\tNO_HEADERS\t(\w+)\tvalue-(\w+)$/.exec(row)
    assert.ok(m, row)
    assert.ok(Math.abs(Number(m[1]) - Date.now()) < 120000)
    assert.equal(m[4], m[5])
    assert.equal(Number(m[2]), JAVA_PARTITIONS[m[4]], `partition of key ${m[4]}`)
  }
  const sep = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'keyed', '--partition', '1', '--offset', 'earliest', '--max-messages', '2',
    '--property', 'print.key=true', '--property', 'key.separator=::', '--property', 'print.value=false'])
  assert.equal(sep.stdout, 'a\nc\n')
  const off = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'keyed', '--partition', '2', '--offset', '2', '--max-messages', '1', '--property', 'print.offset=true'])
  assert.equal(off.stdout, 'Offset:2\tvalue-e\n')
})

test('headers, null.marker and custom separators round trip', async () => {
  await createTopic('headers')
  const input = 'h1:v1,h2:v2\tk1\tplain\n\tk2\tNULL\nh3:x\tNULL\tlast\n'
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'headers', '--property', 'parse.key=true', '--property', 'parse.headers=true', '--property', 'null.marker=NULL'], {input})
  assert.equal(p.code, 0, p.stderr)
  const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'headers', '--from-beginning', '--max-messages', '3',
    '--property', 'print.headers=true', '--property', 'print.key=true', '--property', 'key.separator=|', '--property', 'headers.separator=;', '--property', 'line.separator=$\n'])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stdout, 'h1:v1;h2:v2|k1|plain$\nNO_HEADERS|k2|null$\nh3:x|null|last$\n')
})

test('--sync producer; a --group resumes where it committed', async () => {
  await createTopic('grouped')
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'grouped', '--sync', '--request-required-acks', '1'], {input: '1\n2\n3\n4\n5\n'})
  assert.equal(p.code, 0, p.stderr)
  const first = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'grouped', '--from-beginning', '--group', 'resume-group', '--max-messages', '2'])
  assert.equal(first.stdout, '1\n2\n')
  const rest = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'grouped', '--from-beginning', '--group', 'resume-group', '--max-messages', '3'])
  assert.equal(rest.stdout, '3\n4\n5\n')
})

test('--include reads every topic the regular expression matches', async () => {
  for (const t of ['incl-a', 'incl-b', 'other-c']) {
    await createTopic(t)
    const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', t], {input: `from ${t}\n`})
    assert.equal(p.code, 0, p.stderr)
  }
  const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--include', 'incl-.*', '--from-beginning', '--max-messages', '2'])
  assert.equal(c.code, 0, c.stderr)
  assert.deepEqual(c.stdout.trim().split('\n').sort(), ['from incl-a', 'from incl-b'])
})

test('--timeout-ms ends an idle consumer', async () => {
  await createTopic('idle')
  const t0 = Date.now()
  const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'idle', '--timeout-ms', '1500'])
  assert.equal(c.code, 0, c.stderr)
  assert.equal(c.stdout, '')
  assert.match(c.stderr, /Processed a total of 0 messages\n$/)
  assert.ok(Date.now() - t0 < 30000)
})

test('live tail: prints records produced while it runs; SIGTERM ends it cleanly', async () => {
  await createTopic('tail')
  const consumer = startCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'tail'])
  try {
    // Produce until the consumer (which starts at the end of the log) shows a record.
    let i = 0
    await waitFor(async () => {
      await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'tail'], {input: `tail-${i++}\n`})
      return /tail-\d+\n/.test(consumer.output)
    }, 40000, 'the consumer to print a live record', 200)
  } finally {
    const code = await consumer.stop('SIGTERM')
    assert.equal(code, 0, consumer.output)
  }
  assert.match(consumer.output, /Processed a total of [1-9]\d* messages\n/)
  assert.doesNotMatch(consumer.output, /\n\s+at /)
})

test('| head -3: stdout closed early ends the consumer without an EPIPE trace', async () => {
  await createTopic('epipe')
  const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'epipe'], {input: Array.from({length: 5000}, (_, i) => `e${i}`).join('\n')})
  assert.equal(p.code, 0, p.stderr)
  const child = spawn(process.execPath, [join(binDir, 'kafka-console-consumer.js'), '--bootstrap-server', B, '--topic', 'epipe', '--from-beginning'], {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  child.stderr.on('data', d => { err += d })
  const exited = new Promise<number | null>(r => child.on('exit', code => r(code)))
  await new Promise<void>(res => child.stdout.on('data', d => {
    out += d
    if (out.split('\n').length > 3) { child.stdout.destroy(); res() }
  }))
  // Like `| head -3`: the consumer finds out at its next write, so give it more to print.
  const more = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'epipe'], {input: 'more\n'})
  assert.equal(more.code, 0, more.stderr)
  const timer = setTimeout(() => child.kill('SIGKILL'), 20000)
  const code = await exited
  clearTimeout(timer)
  assert.ok(out.startsWith('e0\ne1\ne2\n'))
  assert.equal(code, 0, err)
  assert.doesNotMatch(err, /EPIPE|\n\s+at /)
})

test('errors: one line and a non-zero exit', async () => {
  await createTopic('errs')
  const noSep = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'errs', '--property', 'parse.key=true'], {input: 'noseparator\n'})
  assert.equal(noSep.code, 1)
  assert.equal(noSep.stderr, 'No key separator found on line number 1: \'noseparator\'\n')

  // An unreachable broker: Java's producer waits max.block.ms for the topic's metadata,
  // logging each failed connection as Kafka's NetworkClient does, then reports the record once
  // (Java's ErrorLoggingCallback lines); kafkit's exit code says a record failed.
  const port = await freePort()
  const down = await runCommand('kafka-console-producer', ['--bootstrap-server', `127.0.0.1:${port}`, '--topic', 'errs', '--producer-property', 'max.block.ms=1500'], {input: 'x\n', timeoutMs: 60000})
  assert.equal(down.code, 1)
  const lines = down.stderr.trimEnd().split('\n')
  const warn = new RegExp(`^\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3}\\] WARN \\[Producer clientId=console-producer\\] (Connection to node -1 \\(/127\\.0\\.0\\.1:${port}\\) could not be established\\. Node may not be available\\.|Bootstrap broker 127\\.0\\.0\\.1:${port} \\(id: -1 rack: null\\) disconnected) \\(org\\.apache\\.kafka\\.clients\\.NetworkClient\\)$`)
  assert.ok(lines.length >= 3, down.stderr)
  for (const l of lines.slice(0, -2)) assert.match(l, warn)
  assert.match(lines[lines.length - 2], /^\[[^\]]+\] ERROR Error when sending message to topic errs with key: null, value: 1 bytes with error: \(org\.apache\.kafka\.clients\.producer\.internals\.ErrorLoggingCallback\)$/)
  assert.equal(lines[lines.length - 1], 'org.apache.kafka.common.errors.TimeoutException: Topic errs not present in metadata after 1500 ms.')

  const codec = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'errs', '--compression-codec', 'foo'], {input: 'x\n'})
  assert.equal(codec.code, 1)
  assert.equal(codec.stderr, 'Invalid value foo for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd\n')

  const usage: [string, string[], string][] = [
    ['kafka-console-producer', ['--topic', 't'], 'Missing required option(s) [bootstrap-server]'],
    ['kafka-console-producer', ['--bootstrap-server', B], 'Missing required argument "[topic]"'],
    ['kafka-console-consumer', ['--topic', 't'], 'Missing required argument "[bootstrap-server]"'],
    ['kafka-console-consumer', ['--bootstrap-server', B], 'Exactly one of --include/--topic is required. '],
    ['kafka-console-consumer', ['--bootstrap-server', B, '--topic', 't', '--offset', '1'], 'The partition is required when offset is specified.'],
    ['kafka-console-consumer', ['--bootstrap-server', B, '--topic', 't', '--partition', '0', '--offset', '1', '--from-beginning'], 'Options from-beginning and offset cannot be specified together.'],
    ['kafka-console-consumer', ['--bootstrap-server', B, '--topic', 't', '--partition', '0', '--offset', 'foo'], 'The provided offset value \'foo\' is incorrect. Valid values are \'earliest\', \'latest\', or a non-negative long.'],
    ['kafka-console-consumer', ['--bootstrap-server', B, '--topic', 't', '--partition', '0', '--group', 'g'], 'Options group and partition cannot be specified together.'],
    ['kafka-console-consumer', ['--bootstrap-server', B, '--topic', 't', '--nope'], 'nope is not a recognized option'],
  ]
  for (const [cmd, args, line] of usage) {
    const r = await runCommand(cmd, args)
    assert.equal(r.code, 1, `${cmd} ${args.join(' ')}`)
    assert.equal(r.stderr, line + '\n', `${cmd} ${args.join(' ')}`)
  }
})

test('differential: Apache Kafka\'s console consumer reads what kafkit produced, and the other way round', {skip: apacheKafkaHome() ? false : 'Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9 (run /work/shared/tools/apache-kafka)'}, async () => {
  await createTopic('diff-console', 3)
  const keys = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta']
  const input = keys.map(k => `${k}:${k.toUpperCase()}`).join('\n') + '\n'
  const javaP = await runApacheTool('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'diff-console', '--property', 'parse.key=true', '--property', 'key.separator=:'], {input})
  assert.equal(javaP.code, 0, javaP.stderr)
  const ourP = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'diff-console', '--property', 'parse.key=true', '--property', 'key.separator=:'], {input})
  assert.equal(ourP.code, 0, ourP.stderr)
  const args = ['--bootstrap-server', B, '--topic', 'diff-console', '--from-beginning', '--max-messages', String(keys.length * 2), '--property', 'print.partition=true', '--property', 'print.key=true']
  const [ours, theirs] = [await runCommand('kafka-console-consumer', args), await runApacheTool('kafka-console-consumer', args)]
  assert.equal(ours.code, 0, ours.stderr)
  const sorted = (s: string) => s.trim().split('\n').sort().join('\n')
  assert.equal(sorted(ours.stdout), sorted(theirs.stdout))
  // Each key appears twice (once per producer) in the same partition.
  const byKey = new Map<string, Set<string>>()
  for (const row of ours.stdout.trim().split('\n')) {
    const [part, key] = row.split('\t')
    byKey.set(key, (byKey.get(key) ?? new Set()).add(part))
  }
  for (const k of keys) assert.equal(byKey.get(k)?.size, 1, `key ${k} went to ${[...(byKey.get(k) ?? [])].join(' and ')}`)
})

test('compression: gzip, snappy, lz4 and zstd round trip', async () => {
  const lines = Array.from({length: 2000}, (_, i) => `compressed line ${i} ${'abc'.repeat(i % 20)}`)
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    await createTopic(`comp-${codec}`)
    const p = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', `comp-${codec}`, '--compression-codec', codec], {input: lines.join('\n') + '\n'})
    assert.equal(p.code, 0, p.stderr)
    const c = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', `comp-${codec}`, '--from-beginning', '--max-messages', String(lines.length)])
    assert.equal(c.stdout, lines.join('\n') + '\n', codec)
  }
})

test('zstd: kcat (librdkafka) reads kafkit\'s zstd batches, and kafkit reads librdkafka\'s', async () => {
  const lines = Array.from({length: 500}, (_, i) => `zstd line ${i} ${'q'.repeat(i % 50)}`)
  const input = lines.join('\n') + '\n'
  await createTopic('zstd-from-kafkit')
  const kp = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', 'zstd-from-kafkit', '--compression-codec', 'zstd'], {input})
  assert.equal(kp.code, 0, kp.stderr)
  const kc = spawnSync('kcat', ['-b', B, '-C', '-t', 'zstd-from-kafkit', '-o', 'beginning', '-e', '-q'], {encoding: 'utf8', timeout: 60000})
  assert.equal(kc.status, 0, kc.stderr)
  assert.equal(kc.stdout, input)
  await createTopic('zstd-from-kcat')
  const pp = spawnSync('kcat', ['-b', B, '-P', '-t', 'zstd-from-kcat', '-z', 'zstd'], {input, encoding: 'utf8', timeout: 60000})
  assert.equal(pp.status, 0, pp.stderr)
  const ours = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', 'zstd-from-kcat', '--from-beginning', '--max-messages', String(lines.length)])
  assert.equal(ours.stdout, input)
})

test('differential: snappy, lz4 and zstd records of Apache Kafka\'s Java producer read by kafkit, and the other way round', {skip: apacheKafkaHome() ? false : 'Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9 (run /work/shared/tools/apache-kafka)'}, async () => {
  const lines = Array.from({length: 1000}, (_, i) => `java interop ${i} ${'xyz'.repeat(i % 30)}`)
  const input = lines.join('\n') + '\n'
  for (const codec of ['snappy', 'lz4', 'zstd']) {
    await createTopic(`jc-${codec}`)
    const jp = await runApacheTool('kafka-console-producer', ['--bootstrap-server', B, '--topic', `jc-${codec}`, '--compression-codec', codec], {input})
    assert.equal(jp.code, 0, jp.stderr)
    const ours = await runCommand('kafka-console-consumer', ['--bootstrap-server', B, '--topic', `jc-${codec}`, '--from-beginning', '--max-messages', String(lines.length)])
    assert.equal(ours.stdout, input, `kafkit reading Java's ${codec}`)
    await createTopic(`kc-${codec}`)
    const kp = await runCommand('kafka-console-producer', ['--bootstrap-server', B, '--topic', `kc-${codec}`, '--compression-codec', codec], {input})
    assert.equal(kp.code, 0, kp.stderr)
    const theirs = await runApacheTool('kafka-console-consumer', ['--bootstrap-server', B, '--topic', `kc-${codec}`, '--from-beginning', '--max-messages', String(lines.length)])
    assert.equal(theirs.stdout, input, `Java reading kafkit's ${codec}`)
  }
})
