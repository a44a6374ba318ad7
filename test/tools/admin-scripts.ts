// Helpers for the differential tests of kafkit's admin scripts (kafka-get-offsets,
// kafka-delete-records, kafka-log-dirs, kafka-configs): run Apache Kafka 3.9's own script (its
// main class, read from ~/.cache/apache-kafka-3.9/bin/<name>, run with java directly) and
// kafkit's, on the same cluster, and compare.
import {runCommand, type RunResult} from '../helpers/util.js'
import {apacheScript, runApacheMain} from './apache-kafka.js'

export {apacheScript}

/** Runs Apache Kafka's script `name` with args (stdout, stderr, exit code). */
export function runApache(name: string, args: string[], opts: {input?: string; timeoutMs?: number} = {}): Promise<RunResult> {
  const script = apacheScript(name)
  if (!script) throw new Error(`Apache Kafka 3.9's ${name} is not installed`)
  return runApacheMain(script.main, [...script.fixed, ...args], {timeoutMs: 90000, ...opts})
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
