// Helpers for the differential tests of kafkit's admin scripts (kafka-get-offsets,
// kafka-delete-records, kafka-log-dirs, kafka-configs): run Apache Kafka 3.9's own script (its
// main class, read from ~/.cache/apache-kafka-3.9/bin/<name>, run with java directly) and
// kafkit's, on the same cluster, and compare.
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCommand, type RunResult} from '../helpers/util.js'
import {apacheKafkaHome} from './apache-kafka.js'

const JAVA = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'

/** True when Apache Kafka 3.9's script `name` is installed (differential tests run then). */
export function apacheScript(name: string): {main: string; fixed: string[]} | undefined {
  const home = apacheKafkaHome()
  const file = home && join(home, 'bin', name)
  if (!file || !existsSync(file)) return undefined
  const m = /-cp '[^']*' (\S+)([^"]*?)\s*"\$@"/.exec(readFileSync(file, 'utf8'))
  return m ? {main: m[1], fixed: m[2].trim() ? m[2].trim().split(/\s+/) : []} : undefined
}

/** Runs Apache Kafka's script `name` with args (stdout, stderr, exit code). */
export function runApache(name: string, args: string[], opts: {input?: string; timeoutMs?: number} = {}): Promise<RunResult> {
  const home = apacheKafkaHome()
  const script = apacheScript(name)
  if (!home || !script) throw new Error(`Apache Kafka 3.9's ${name} is not installed`)
  return new Promise((res, rej) => {
    const child = spawn(JAVA, ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto', `-Dlog4j.configuration=file:${join(home, 'config', 'tools-log4j.properties')}`, '-cp', join(home, 'libs', '*'), script.main, ...script.fixed, ...args], {stdio: ['pipe', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', d => out.push(d))
    child.stderr.on('data', d => err.push(d))
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`${name} ${args.join(' ')} timed out`)) }, opts.timeoutMs ?? 90000)
    child.on('error', rej)
    child.on('close', code => { clearTimeout(timer); res({code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()}) })
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}

/** Runs kafkit's script and Apache's with the same args. */
export async function both(name: string, args: string[], opts: {input?: string; timeoutMs?: number} = {}): Promise<{kafkit: RunResult; apache: RunResult}> {
  const [kafkit, apache] = await Promise.all([runCommand(name, args, opts), runApache(name, args, opts)])
  return {kafkit, apache}
}

/** The first line of stderr that is not a log4j line (Java's tools log WARNs there too). */
export function errorLine(stderr: string): string {
  return stderr.split('\n').find(l => l.trim() !== '' && !/^\[\d{4}-\d\d-\d\d [\d:,]+\] (WARN|INFO|ERROR)/.test(l) && !/^\s+at /.test(l)) ?? ''
}

/** stderr without log4j lines, stack frames and Java's usage table (kafkit prints none of those). */
export function messageLines(stderr: string): string[] {
  const out: string[] = []
  for (const l of stderr.split('\n')) {
    if (/^Option\s+Description\s*$/.test(l)) break
    if (l.trim() === '' || /^\[\d{4}-\d\d-\d\d [\d:,]+\] (WARN|INFO|ERROR|DEBUG)/.test(l) || /^\s+at /.test(l) || /^(java\.|Caused by:|\t)/.test(l) || /^\s*\.\.\. \d+ more/.test(l)) continue
    out.push(l)
  }
  return out
}
