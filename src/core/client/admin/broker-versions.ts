// kafka-broker-api-versions' calls and format: the brokers of the cluster (Metadata from a
// bootstrap server, each tried once, as Kafka's legacy admin client does) and each broker's
// ApiVersions, printed as Java's NodeApiVersions.toString(true) prints them.
import {ApiVersions, Metadata, apisByKey, type ApiSpec} from '../../protocol/messages.js'
import {ConnectionError} from '../../protocol/client.js'
import {ClientConfig} from '../config.js'
import {NetworkClient, networkSettings, type BrokerNode} from '../network.js'
import {apiError, KafkaClientError} from '../kafka-errors.js'

export interface ApiVersionRange {
  apiKey: number
  minVersion: number
  maxVersion: number
}

/** `host:port (id: N rack: R)`, as Java's Node.toString(). */
export function nodeText(n: BrokerNode): string {
  return `${n.host}:${n.port} (id: ${n.id} rack: ${n.rack ?? 'null'})`
}

/** The APIs a Java client knows (ApiKeys.clientApis(): those a broker serves), by key. */
function clientApis(): ApiSpec<unknown, unknown>[] {
  return [...apisByKey.values()].filter(a => a.listeners.includes('zkBroker') || a.listeners.includes('broker'))
}

function rangeText(min: number, max: number): string {
  return min === max ? `${min}` : `${min} to ${max}`
}

/**
 * A broker's API versions as Java's NodeApiVersions.toString(lineBreaks) writes them: one entry
 * per API key in key order, `Name(key): min to max [usable: v]` where v is the highest version
 * both this client (Kafka 3.9's, unstable versions included) and the broker speak; APIs the
 * broker does not list: `UNSUPPORTED`; keys this client does not know: `UNKNOWN(key): ...`.
 */
export function apiVersionsText(brokerApis: ApiVersionRange[], lineBreaks = true): string {
  const entries = new Map<number, string>()
  for (const b of brokerApis) {
    const ours = apisByKey.get(b.apiKey)
    if (!ours) {
      entries.set(b.apiKey, `UNKNOWN(${b.apiKey}): ${rangeText(b.minVersion, b.maxVersion)}`)
      continue
    }
    let usable: string
    if (ours.maxVersion < b.minVersion) usable = '[unusable: node too new]'
    else if (b.maxVersion < ours.minVersion) usable = '[unusable: node too old]'
    else usable = `[usable: ${Math.min(ours.maxVersion, b.maxVersion)}]`
    entries.set(b.apiKey, `${ours.name}(${b.apiKey}): ${rangeText(b.minVersion, b.maxVersion)} ${usable}`)
  }
  for (const api of clientApis()) if (!entries.has(api.apiKey)) entries.set(api.apiKey, `${api.name}(${api.apiKey}): UNSUPPORTED`)
  const sorted = [...entries.entries()].sort((a, b) => a[0] - b[0]).map(e => e[1])
  return lineBreaks ? `(\n\t${sorted.join(',\n\t')}\n)` : `(${sorted.join(', ')})`
}

/**
 * Nodes in the order Java's Cluster lists them (a HashMap<Integer, Node>: by bucket of the id,
 * which for small ids is ascending id order).
 */
export function javaIntKeyOrder(nodes: BrokerNode[]): BrokerNode[] {
  let cap = 16
  while (nodes.length > cap * 0.75) cap *= 2
  const bucket = (id: number) => (id ^ (id >>> 16)) & (cap - 1)
  return nodes.map((n, i) => ({n, i})).sort((a, b) => bucket(a.n.id) - bucket(b.n.id) || a.i - b.i).map(x => x.n)
}

export interface BrokerVersions {
  node: BrokerNode
  apis?: ApiVersionRange[]
  /** Why the broker's versions could not be read (Java prints the exception). */
  error?: string
}

/** The Java exception text of a failed request (`org.apache.kafka.common.errors.X: msg`). */
function exceptionText(error: unknown): string {
  if (error instanceof KafkaClientError) return error.toString()
  if (error instanceof ConnectionError) return 'org.apache.kafka.common.errors.DisconnectException'
  return String((error as Error)?.message ?? error)
}

/** The legacy admin client of kafka-broker-api-versions (request.timeout.ms 5000 by default). */
export class BrokerVersionsClient {
  readonly net: NetworkClient

  constructor(bootstrap: string, config: ClientConfig, clientId = 'admin-1') {
    this.net = new NetworkClient(bootstrap, networkSettings(config, clientId, 5000), `[LegacyAdminClient clientId=${clientId}]`)
  }

  close(): void {
    this.net.close()
  }

  /**
   * The brokers in the metadata of the first bootstrap server that answers; each bootstrap
   * server is tried once. Throws Java's "Request METADATA failed on brokers List(...)".
   */
  async brokers(): Promise<BrokerNode[]> {
    for (const b of this.net.bootstrap) {
      try {
        const md = await this.net.send(b.id, Metadata, v => ({topics: v === 0 ? [] : null, allowAutoTopicCreation: false}), {maxVersion: 12})
        return javaIntKeyOrder(md.brokers.map(x => ({id: x.nodeId, host: x.host, port: x.port, rack: x.rack ?? null})))
      } catch (error) {
        if (error instanceof KafkaClientError && /Authentication|Sasl/.test(error.exceptionClass)) throw error
      }
    }
    throw new KafkaClientError('RuntimeException', `Request METADATA failed on brokers List(${this.net.bootstrap.map(nodeText).join(', ')})`, -1)
  }

  /** Waits until the metadata lists a broker (Java retries every 50 ms), then asks each one. */
  async versions(): Promise<BrokerVersions[]> {
    for (;;) {
      if ((await this.brokers()).length > 0) break
      await new Promise(res => setTimeout(res, 50))
    }
    const nodes = await this.brokers()
    this.net.brokers.clear()
    for (const n of nodes) this.net.brokers.set(n.id, n)
    const out: BrokerVersions[] = []
    for (const node of nodes) {
      try {
        const res = await this.net.send(node.id, ApiVersions, {clientSoftwareName: 'kafkit', clientSoftwareVersion: '0.1.0'})
        if (res.errorCode !== 0) throw apiError(res.errorCode)
        out.push({node, apis: res.apiKeys})
      } catch (error) {
        out.push({node, error: exceptionText(error)})
      }
    }
    return out
  }
}
