// Apache Kafka 3.9's inspection tools (kafka-broker-api-versions, kafka-cluster, kafka-features,
// kafka-dump-log, kafka-replica-verification, kafka-e2e-latency), run through java directly
// for the differential tests beside kafkit's.
import {runApacheMain, spawnApacheMain} from './apache-kafka.js'
import {Proc, type RunResult} from '../helpers/util.js'

export const APACHE_MAIN = {
  'kafka-broker-api-versions': 'kafka.admin.BrokerApiVersionsCommand',
  'kafka-cluster': 'org.apache.kafka.tools.ClusterTool',
  'kafka-features': 'org.apache.kafka.tools.FeatureCommand',
  'kafka-dump-log': 'kafka.tools.DumpLogSegments',
  'kafka-replica-verification': 'org.apache.kafka.tools.ReplicaVerificationTool',
  'kafka-e2e-latency': 'org.apache.kafka.tools.EndToEndLatency',
} as const

/** Starts Apache Kafka 3.9's tool `name` in the background (tools that run until stopped). */
export function startApacheInspect(name: keyof typeof APACHE_MAIN, args: string[]): Proc {
  return new Proc(spawnApacheMain(APACHE_MAIN[name], args))
}

/** Runs Apache Kafka 3.9's tool `name` with args and collects its output. */
export function runApacheInspect(name: keyof typeof APACHE_MAIN, args: string[], opts: {timeoutMs?: number; input?: string} = {}): Promise<RunResult> {
  return runApacheMain(APACHE_MAIN[name], args, opts)
}
