// kafka-configs --zookeeper: what Kafka 3.9's ConfigCommand still does directly on ZooKeeper,
// before any broker runs: users' SCRAM credentials (the inter-broker SCRAM user must exist
// before the first broker starts) and the configs of brokers that are not running. It writes
// what Kafka's AdminZkClient writes: /config/<type>/<entity> as {"version":1,"config":{...}} and
// a /config/changes/config_change_<seq> notification {"version":2,"entity_path":"..."}, znodes
// created with Kafka's ACLs when the tool authenticates (SASL from the JAAS Client section in
// KAFKA_OPTS, or a TLS client certificate from --zk-tls-config-file), and prints Kafka's lines.
import {pbkdf2Sync, randomBytes} from 'node:crypto'
import {ToolError, writeLineSync} from './base.js'
import {timestamp} from '../core/util/log.js'
import {ZkClient, KeeperError} from '../core/zkclient/client.js'
import {kafkaZkConnected, kafkaZnodeAcls} from '../core/zkclient/security-migration.js'
import {zkClientSecurity} from '../core/zkclient/security.js'
import {loadZkTlsConfigFile} from '../core/zkclient/tls-config-file.js'
import {jvmSystemProperties, ZK_TOOL_JVM_OPTION_VARS} from '../core/zkclient/system-properties.js'
import {zkClientConfigWithSystemProperties} from '../core/zookeeper/tls.js'
import {SCRAM_MECHANISMS, credentialFromSaltedPassword, credentialToString} from '../core/security/sasl.js'
import {DEFAULT_ENTITY, sanitize, desanitize} from '../core/security/entity-configs.js'
import {javaStringHash} from '../core/client/format.js'
import {javaHashOrder} from '../core/client/admin/partitions.js'

/** Kafka's IllegalArgumentException / InvalidConfigurationException from the --zookeeper path: the message alone, exit 1. */
export class ZkConfigArgError extends ToolError {}

const PERSISTENT_SEQUENTIAL = 2
const SCRAM_NAMES = Object.keys(SCRAM_MECHANISMS)

export interface ZkConfigsRequest {
  connect: string
  tlsConfigFile?: string
  alter: boolean
  types: string[]
  /** '' for a default entity, as kafka-configs.ts collects them. */
  names: string[]
  added: Map<string, string>
  deleted: string[]
}

interface Entity { type: string; name: string | undefined }

/** ConfigCommand.Entity.toString. */
function entityString(e: Entity): string {
  const typeName = e.type === 'users' ? 'user-principal' : e.type === 'clients' ? 'client-id' : e.type
  if (e.name === undefined) return e.type
  if (e.name === DEFAULT_ENTITY) return `default ${typeName}`
  return `${typeName} '${e.type === 'users' || e.type === 'clients' ? desanitize(e.name) : e.name}'`
}

/** parseEntity: users/clients in (user, client) order with sanitized names; brokers by id or <default>. */
function parseEntity(r: ZkConfigsRequest): {root: Entity; child?: Entity} {
  if (r.types[0] !== 'users') return {root: {type: r.types[0], name: r.names[0] === undefined ? undefined : r.names[0] === '' ? DEFAULT_ENTITY : r.names[0]}}
  // (clients are refused with --zookeeper before this, so users always come first)
  const names = r.names
  const es = r.types.map((t, i) => ({type: t, name: names[i] === undefined ? undefined : names[i] === '' ? DEFAULT_ENTITY : sanitize(names[i])}))
  return es.length > 1 ? {root: es[0], child: es[1]} : {root: es[0]}
}

const fullName = (e: {root: Entity; child?: Entity}) => (e.root.name ?? '') + (e.child ? `/${e.child.type}${e.child.name !== undefined ? `/${e.child.name}` : ''}` : '')
const show = (e: {root: Entity; child?: Entity}) => entityString(e.root) + (e.child ? `, ${entityString(e.child)}` : '')

/** Java's Properties.toString of what --add-config gave ({k=v, k2=v2} in hash order). */
function propsString(m: Map<string, string>): string {
  return `{${javaHashOrder([...m], ([k]) => javaStringHash(k)).map(([k, v]) => `${k}=${v}`).join(', ')}}`
}

/** Kafka's ScramFormatter.generateCredential: a salt of a random 130-bit number's base-36 digits. */
function scramCredential(mechanism: string, value: string): string {
  const m = /^(?:iterations=([0-9]*),)?password=(.*)$/s.exec(value)
  if (!m) throw new ZkConfigArgError(`Invalid credential property ${mechanism.replace(/-/g, '_')}=${value}`)
  const iterations = m[1] !== undefined && m[1] !== '' ? Number(m[1]) : 4096
  if (m[1] === '') throw new ZkConfigArgError(`For input string: ""`)
  const min = SCRAM_MECHANISMS[mechanism].minIterations
  if (iterations < min) throw new ZkConfigArgError(`Iterations ${iterations} is less than the minimum ${min} required for ${mechanism.replace(/-/g, '_')}`)
  const bits = BigInt('0x' + randomBytes(17).toString('hex')) & ((1n << 130n) - 1n)
  const salt = Buffer.from(bits.toString(36), 'utf8')
  const hash = SCRAM_MECHANISMS[mechanism].hash
  const salted = pbkdf2Sync(Buffer.from(m[2], 'utf8'), salt, iterations, hash === 'sha256' ? 32 : 64, hash)
  return credentialToString(credentialFromSaltedPassword(mechanism, salt, salted, iterations))
}

export async function configsWithZk(r: ZkConfigsRequest, out: (line: string) => void): Promise<void> {
  let tlsProps = new Map<string, string>()
  if (r.tlsConfigFile !== undefined) tlsProps = loadZkTlsConfigFile(r.tlsConfigFile)
  const get = (k: string) => tlsProps.get(k)
  const security = zkClientSecurity(get, r.tlsConfigFile ?? '<no --zk-tls-config-file>')
  // KafkaZkClient(isSecure = JaasUtils.isZkSaslEnabled || zkTlsClientAuthEnabled): new znodes get Kafka's ACLs.
  const all = zkClientConfigWithSystemProperties(get, jvmSystemProperties(process.env, ZK_TOOL_JVM_OPTION_VARS)).get
  const tlsClientAuth = all('zookeeper.ssl.client.enable') === 'true' && all('zookeeper.clientCnxnSocket') !== undefined && all('zookeeper.ssl.keystore.location') !== undefined
  const secure = security.sasl !== undefined || tlsClientAuth
  out('Warning: --zookeeper is deprecated and will be removed in a future version of Kafka.')
  out('Use --bootstrap-server instead to specify a broker to connect to.')
  const zk = new ZkClient(r.connect, {sessionTimeout: 30000, tls: security.tls, sasl: security.sasl})
  zk.start()
  try {
    await kafkaZkConnected(zk, 30000)
    if (r.alter) await alter(zk, r, secure, out)
    else await describe(zk, r, out)
  } finally {
    await zk.close()
  }
}

async function readConfig(zk: ZkClient, path: string): Promise<Map<string, string>> {
  try {
    const {data} = await zk.getData(path)
    const cfg = data ? (JSON.parse(data.toString('utf8')) as {config?: Record<string, string>}).config ?? {} : {}
    return new Map(Object.entries(cfg))
  } catch (e) {
    if (e instanceof KeeperError && e.code === -101) return new Map()
    throw e
  }
}

async function children(zk: ZkClient, path: string): Promise<string[]> {
  try {
    return await zk.getChildren(path)
  } catch (e) {
    if (e instanceof KeeperError && e.code === -101) return []
    throw e
  }
}

/** KafkaZkClient.createRecursive: missing parents first, each with Kafka's ACLs for its path. */
async function createRecursive(zk: ZkClient, path: string, data: Buffer | null, secure: boolean, mode = 0): Promise<string> {
  try {
    return await zk.create(path, data, kafkaZnodeAcls(secure, path), mode)
  } catch (e) {
    if (!(e instanceof KeeperError) || e.code !== -101) throw e
  }
  const parent = path.slice(0, path.lastIndexOf('/'))
  if (parent !== '') {
    try {
      await createRecursive(zk, parent, null, secure)
    } catch (e) {
      if (!(e instanceof KeeperError) || e.code !== -110) throw e
    }
  }
  return zk.create(path, data, kafkaZnodeAcls(secure, path), mode)
}

async function alter(zk: ZkClient, r: ZkConfigsRequest, secure: boolean, out: (line: string) => void): Promise<void> {
  const entity = parseEntity(r)
  const type = entity.root.type
  const name = fullName(entity)
  const deletedText = r.deleted.length === 0 ? 'List()' : `ArrayBuffer(${r.deleted.join(', ')})`
  const errorMessage = `--bootstrap-server option must be specified to update ${type} configs: {add: ${propsString(r.added)}, delete: ${deletedText}}`
  const added = new Map(r.added)
  if (type === 'users') {
    if (added.size > 0 || r.deleted.length > 0) {
      const info = 'User configuration updates using ZooKeeper are only supported for SCRAM credential updates.'
      if (![...added.keys()].every(k => SCRAM_NAMES.includes(k)) || !r.deleted.every(k => SCRAM_NAMES.includes(k))) throw new ZkConfigArgError(`requirement failed: ${errorMessage}. ${info}`)
    }
    for (const m of SCRAM_NAMES) if (added.has(m)) added.set(m, scramCredential(m, added.get(m)!))
    // AdminZkClient: a default user or a <user, client-id> entity takes client configs only (DynamicConfig.Client).
    if (entity.root.name === DEFAULT_ENTITY || entity.child !== undefined) {
      if (added.size > 0) throw new ZkConfigArgError(`requirement failed: Unknown Dynamic Configuration: HashSet(${javaHashOrder([...added.keys()], javaStringHash).join(', ')}).`)
    }
  } else {
    await brokersNotRunning(zk, name, errorMessage)
    throw new ZkConfigArgError(`kafkit's kafka-configs --zookeeper alters users' SCRAM credentials only; with the brokers stopped, put broker configs in server.properties or use --bootstrap-server once one runs`)
  }
  const path = `/config/${type}/${name}`
  const configs = await readConfig(zk, path)
  const invalid = r.deleted.filter(k => !configs.has(k))
  if (invalid.length > 0) throw new ZkConfigArgError(`Invalid config(s): ${invalid.join(',')}`)
  for (const [k, v] of added) configs.set(k, v)
  for (const k of r.deleted) configs.delete(k)
  // KafkaZkClient's warning (log4j WARN on stderr, as Apache's tools log).
  writeLineSync(2, `[${timestamp()}] WARN Setting entity configs without any checks on the controller. (kafka.zk.KafkaZkClient)`)
  const data = Buffer.from(JSON.stringify({version: 1, config: Object.fromEntries(configs)}), 'utf8')
  try {
    await zk.setData(path, data, -1)
  } catch (e) {
    if (!(e instanceof KeeperError) || e.code !== -101) throw e
    await createRecursive(zk, path, data, secure)
  }
  await createRecursive(zk, '/config/changes/config_change_', Buffer.from(JSON.stringify({version: 2, entity_path: `${type}/${name}`}), 'utf8'), secure, PERSISTENT_SEQUENTIAL)
  out(`Completed updating config for entity: ${show(entity)}.`)
}

/** ConfigCommand.validateBrokersNotRunning. */
async function brokersNotRunning(zk: ZkClient, name: string, errorMessage: string): Promise<void> {
  const info = 'Broker configuration operations using ZooKeeper are only supported if the affected broker(s) are not running.'
  const running = await children(zk, '/brokers/ids')
  if (name !== DEFAULT_ENTITY) {
    if (running.includes(String(Number(name)))) throw new ZkConfigArgError(`requirement failed: ${errorMessage} - broker ${Number(name)} is running. ${info}`)
  } else if (running.length > 0) {
    throw new ZkConfigArgError(`requirement failed: ${errorMessage} - ${running.length} brokers are running. ${info}`)
  }
}

async function describe(zk: ZkClient, r: ZkConfigsRequest, out: (line: string) => void): Promise<void> {
  const entity = parseEntity(r)
  const type = entity.root.type
  const describeAllUsers = type === 'users' && entity.root.name === undefined && entity.child === undefined
  if (type === 'brokers') {
    await brokersNotRunning(zk, fullName(entity), `--bootstrap-server option must be specified to describe ${type}`)
  }
  // ConfigEntity.getAllEntities.
  const expand = async (e: {root: Entity; child?: Entity}): Promise<Array<{root: Entity; child?: Entity}>> => {
    if (e.root.name === undefined) {
      const roots = (await children(zk, `/config/${e.root.type}`)).map(n => ({root: {type: e.root.type, name: n}, child: e.child}))
      if (e.child === undefined) return roots
      const nested = []
      for (const root of roots) nested.push(...await expand({root: root.root, child: {type: e.child.type, name: undefined}}))
      return nested
    }
    if (e.child !== undefined && e.child.name === undefined) {
      return (await children(zk, `/config/${e.root.type}/${e.root.name}/${e.child.type}`)).map(n => ({root: e.root, child: {type: e.child!.type, name: n}}))
    }
    return [e]
  }
  for (const e of await expand(entity)) {
    const configs = await readConfig(zk, `/config/${e.root.type}/${fullName(e)}`)
    if (configs.size === 0 && describeAllUsers) continue
    const ordered = javaHashOrder([...configs], ([k]) => javaStringHash(k))
    out(`Configs for ${show(e)} are ${ordered.map(([k, v]) => `${k}=${v}`).join(',')}`)
  }
}


