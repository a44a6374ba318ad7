// Apache Kafka 3.9's inspection tools (kafka-broker-api-versions, kafka-cluster, kafka-features,
// kafka-dump-log, kafka-replica-verification, kafka-e2e-latency), run through java directly
// for the differential tests beside kafkit's.
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {apacheKafkaHome} from './apache-kafka.js'
import {Proc, type RunResult} from '../helpers/util.js'

const JAVA = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'

export const APACHE_MAIN = {
  'kafka-broker-api-versions': 'kafka.admin.BrokerApiVersionsCommand',
  'kafka-cluster': 'org.apache.kafka.tools.ClusterTool',
  'kafka-features': 'org.apache.kafka.tools.FeatureCommand',
  'kafka-dump-log': 'kafka.tools.DumpLogSegments',
  'kafka-replica-verification': 'org.apache.kafka.tools.ReplicaVerificationTool',
  'kafka-e2e-latency': 'org.apache.kafka.tools.EndToEndLatency',
} as const

function javaArgs(home: string, name: keyof typeof APACHE_MAIN, args: string[]): string[] {
  return ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${join(home, 'config', 'tools-log4j.properties')}`, '-cp', join(home, 'libs', '*'), APACHE_MAIN[name], ...args]
}

/** Starts Apache Kafka 3.9's tool `name` in the background (tools that run until stopped). */
export function startApacheInspect(name: keyof typeof APACHE_MAIN, args: string[]): Proc {
  const home = apacheKafkaHome()
  if (!home) throw new Error('Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9')
  return new Proc(spawn(JAVA, javaArgs(home, name, args), {stdio: ['pipe', 'pipe', 'pipe']}))
}

/** Runs Apache Kafka 3.9's tool `name` with args and collects its output. */
export function runApacheInspect(name: keyof typeof APACHE_MAIN, args: string[], opts: {timeoutMs?: number; input?: string} = {}): Promise<RunResult> {
  const home = apacheKafkaHome()
  if (!home) throw new Error('Apache Kafka 3.9 is not installed in ~/.cache/apache-kafka-3.9')
  return new Promise((res, rej) => {
    const child = spawn(JAVA, javaArgs(home, name, args), {stdio: ['pipe', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', d => out.push(d))
    child.stderr.on('data', d => err.push(d))
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`${name} ${args.join(' ')} timed out`)) }, opts.timeoutMs ?? 60000)
    child.on('error', rej)
    child.on('close', code => { clearTimeout(timer); res({code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()}) })
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}
