// kafka-configs: describe and alter the configs of topics, brokers (per broker and the
// cluster default), clients, users (quotas and SCRAM credentials) and IPs, as Apache Kafka
// 3.9's ConfigCommand does with --bootstrap-server: its checks and messages, its output
// lines ("Dynamic configs for topic t are:", "  k=v sensitive=false synonyms={...}",
// "Quota configs for user-principal 'u' are k=v", "SCRAM credential configs for
// user-principal 'u' are SCRAM-SHA-256=iterations=8192", "Completed updating config for ...").
import {Flags} from '@oclif/core'
import {isIP} from 'node:net'
import {KafkaCommand, loadClientProperties, ToolError, UsageError, writeLineSync} from './base.js'
import {Admin} from '../core/client/admin.js'
import {configsWithZk, ZkConfigArgError} from './configs-zk.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {invalidTopicName} from '../core/client/format.js'
import {javaStringHash} from '../core/client/format.js'
import {adminConfigProblem, javaDouble, javaSplit} from '../core/client/admin/cli.js'
import {javaHashOrder} from '../core/client/admin/partitions.js'
import {
  CONFIG_SOURCES, ConfigResourceType, OpType, SCRAM_MECHANISMS, alterClientQuotas, alterConfigs, alterUserScramCredentials, describeClientQuotas,
  describeConfigs, describeUserScramCredentials, incrementalAlterConfigs, type ConfigEntry, type QuotaComponent, type QuotaEntity,
} from '../core/client/admin/configs.js'

const USAGE = 'This tool helps to manipulate and describe entity config for a topic, client, user, broker, ip or client-metrics'
const SUPPORTED_TYPES = ['topics', 'clients', 'users', 'brokers', 'ips', 'broker-loggers', 'client-metrics']
const QUOTA_KEYS = ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage', 'controller_mutation_rate']
const IP_KEYS = ['connection_creation_rate']
const DEFAULT_SCRAM_ITERATIONS = 4096

/** Kafka's IllegalArgumentException / InvalidConfigurationException: the message alone. */
class ConfigArgError extends ToolError {}

const ENTITY_FLAGS = [['topic', 'topics'], ['client', 'clients'], ['user', 'users'], ['broker', 'brokers'], ['broker-logger', 'broker-loggers'], ['ip', 'ips']] as const
const DEFAULT_FLAGS = [['client-defaults', 'clients'], ['user-defaults', 'users'], ['broker-defaults', 'brokers'], ['ip-defaults', 'ips']] as const

export default class KafkaConfigs extends KafkaCommand {
  static hidden = false
  static summary = USAGE
  static description = 'Describes and alters the configs of topics, brokers (dynamic broker configs, per broker and cluster-wide), client and user quotas, users\' SCRAM credentials and IP connection quotas, as Apache Kafka 3.9\'s kafka-configs with --bootstrap-server. Secrets are never shown (sensitive=true, value null). With --zookeeper (and --zk-tls-config-file, the JAAS Client section in KAFKA_OPTS), as Kafka 3.9: users\' SCRAM credentials before any broker runs (e.g. the inter-broker user), and describing stopped brokers\' configs.'
  static examples = [
    'kafka-configs --bootstrap-server localhost:9092 --describe --entity-type topics --entity-name dev-topic',
    'kafka-configs --bootstrap-server localhost:9092 --alter --entity-type topics --entity-name dev-topic --add-config retention.ms=60000,cleanup.policy=[compact,delete]',
    'kafka-configs --bootstrap-server localhost:9092 --alter --entity-type brokers --entity-default --add-config log.cleaner.threads=2',
    'kafka-configs --bootstrap-server localhost:9092 --alter --entity-type users --entity-name alice --add-config \'SCRAM-SHA-256=[iterations=8192,password=alice-secret]\'',
    'kafka-configs --bootstrap-server localhost:9092 --alter --user alice --add-config producer_byte_rate=1048576',
    'kafka-configs --zookeeper localhost:2181 --alter --add-config \'SCRAM-SHA-256=[password=admin-secret]\' --entity-type users --entity-name admin',
  ]

  static flags = {
    'bootstrap-server': Flags.string({description: 'The Kafka servers to connect to.', helpValue: '<server to connect to>'}),
    'bootstrap-controller': Flags.string({description: 'The Kafka controllers to connect to (KRaft only: not supported by kafkit).', helpValue: '<controller to connect to>'}),
    zookeeper: Flags.string({description: 'DEPRECATED. The connection string for the zookeeper connection in the form host:port[/chroot]. Required when configuring SCRAM credentials for users (e.g. the inter-broker user, before any broker runs) or describing stopped brokers\' configs; TLS from --zk-tls-config-file, SASL from the JAAS Client section in KAFKA_OPTS.', helpValue: '<urls>'}),
    'command-config': Flags.string({description: 'Property file containing configs to be passed to Admin Client. This is used only with --bootstrap-server option for describing and altering broker configs.', helpValue: '<command config property file>'}),
    alter: Flags.boolean({description: 'Alter the configuration for the entity.'}),
    describe: Flags.boolean({description: 'List configs for the given entity.'}),
    all: Flags.boolean({description: 'List all configs for the given topic, broker, or broker-logger entity (includes static configuration when the entity type is brokers)'}),
    'entity-type': Flags.string({description: 'Type of entity (topics/clients/users/brokers/broker-loggers/ips/client-metrics)', multiple: true, multipleNonGreedy: true}),
    'entity-name': Flags.string({description: 'Name of entity (topic name/client id/user principal name/broker id/ip/client metrics)', multiple: true, multipleNonGreedy: true}),
    'entity-default': Flags.boolean({description: 'Default entity name for clients/users/brokers/ips (applies to corresponding entity type in command line)'}),
    'add-config': Flags.string({description: 'Key Value pairs of configs to add. Square brackets can be used to group values which contain commas: \'k1=v1,k2=[v1,v2,v2],k3=v3\'. Entity types \'users\' and \'clients\' may be specified together to update config for clients of a specific user.'}),
    'add-config-file': Flags.string({description: 'Path to a properties file with configs to add. See add-config for a list of valid configurations.'}),
    'delete-config': Flags.string({description: 'config keys to remove \'k1,k2\'', multiple: true, multipleNonGreedy: true}),
    force: Flags.boolean({description: 'Suppress console prompts'}),
    topic: Flags.string({description: 'The topic\'s name.'}),
    client: Flags.string({description: 'The client\'s ID.'}),
    'client-defaults': Flags.boolean({description: 'The config defaults for all clients.'}),
    user: Flags.string({description: 'The user\'s principal name.'}),
    'user-defaults': Flags.boolean({description: 'The config defaults for all users.'}),
    broker: Flags.string({description: 'The broker\'s ID.'}),
    'broker-defaults': Flags.boolean({description: 'The config defaults for all brokers.'}),
    'broker-logger': Flags.string({description: 'The broker\'s ID for its logger config.'}),
    ip: Flags.string({description: 'The IP address.'}),
    'ip-defaults': Flags.boolean({description: 'The config defaults for all IPs.'}),
    'zk-tls-config-file': Flags.string({description: 'Identifies the file where ZooKeeper client TLS connectivity properties are defined (--zookeeper only).'}),
  }

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError(USAGE)
    const {flags} = await this.parse(KafkaConfigs)
    try {
      await this.execute(flags)
    } catch (error) {
      if (error instanceof ConfigArgError || error instanceof ZkConfigArgError || error instanceof UsageError) throw error
      // Any other failure: Kafka's line naming the arguments, then the exception (no stack frames).
      const cause = error instanceof KafkaClientError ? `${error.qualifiedClass}: ${error.message}` : `${(error as Error).message}`
      writeLineSync(2, `Error while executing config command with args '${this.argv.join(' ')}'`)
      throw new ToolError(error instanceof KafkaClientError ? `java.util.concurrent.ExecutionException: ${cause}` : cause)
    }
  }

  private async execute(flags: Flags): Promise<void> {
    const {types, names} = this.entities(flags)
    this.checkArgs(flags, types, names)
    if (flags.zookeeper !== undefined) {
      // Kafka 3.9's ConfigCommand.processCommandWithZk: users' SCRAM credentials, stopped brokers.
      if (flags.alter && types.length !== names.length && types[0] === 'users') throw new ConfigArgError('--entity-name or --entity-default must be specified with each --entity-type for --alter')
      const added = flags.alter ? await this.configsToAdd(flags) : new Map<string, string>()
      const deleted = ((flags['delete-config'] ?? []) as string[]).flatMap(v => javaSplit(v, ',')).map(k => k.trim())
      await configsWithZk({connect: flags.zookeeper, tlsConfigFile: flags['zk-tls-config-file'], alter: flags.alter, types, names, added, deleted}, line => writeLineSync(1, line))
      return
    }
    const props = loadClientProperties(flags['command-config'])
    if (adminConfigProblem(props)) throw new Error('org.apache.kafka.common.KafkaException: Failed to create new KafkaAdminClient')
    const admin = new Admin(flags['bootstrap-server']!, {props})
    try {
      if (flags.alter && types.length !== names.length) throw new ConfigArgError('An entity name must be specified for every entity type')
      if (flags.alter) await this.alter(admin, flags, types, names)
      else await this.describe(admin, flags, types, names)
    } finally {
      admin.close()
    }
  }

  /** Entity types and names in Kafka's order: --entity-type/--entity-name/--entity-default as typed, then the shorthand flags. */
  private entities(flags: Flags): {types: string[]; names: string[]} {
    const types = [...(flags['entity-type'] ?? [])]
    const names: string[] = []
    const given = [...(flags['entity-name'] ?? [])]
    for (const arg of this.argv) {
      if (arg === '--entity-name' || arg.startsWith('--entity-name=')) names.push(given.shift() ?? '')
      else if (arg === '--entity-default') names.push('')
    }
    for (const [flag, type] of ENTITY_FLAGS) if (flags[flag] !== undefined) { types.push(type); names.push(flags[flag] as string) }
    for (const [flag, type] of DEFAULT_FLAGS) if (flags[flag]) types.push(type)
    for (const [flag] of DEFAULT_FLAGS) if (flags[flag]) names.push('')
    return {types, names}
  }

  private checkArgs(flags: Flags, types: string[], names: string[]): void {
    if ([flags.alter, flags.describe].filter(Boolean).length !== 1) throw new UsageError('Command must include exactly one action: --describe, --alter')
    if (flags.describe) {
      for (const [opt, has] of [['alter', flags.alter], ['add-config', flags['add-config'] !== undefined], ['delete-config', flags['delete-config'] !== undefined]] as const) {
        if (has) throw new UsageError(`Option "[describe]" can't be used with option "[${opt}]"`)
      }
    }
    const dups = types.filter((t, i) => types.indexOf(t) !== i)
    if (dups.length) throw new ConfigArgError(`Duplicate entity type(s) specified: ${[...new Set(dups)].join(',')}`)
    const viaBootstrap = flags['bootstrap-server'] !== undefined || flags['bootstrap-controller'] !== undefined
    const allowed = viaBootstrap ? SUPPORTED_TYPES : ['users', 'brokers']
    for (const t of types) {
      if (!allowed.includes(t)) throw new ConfigArgError(`Invalid entity type ${t}, the entity type must be one of ${allowed.join(', ')} with a ${viaBootstrap ? '--bootstrap-server or --bootstrap-controller' : '--zookeeper'} argument`)
    }
    if (types.length === 0) throw new ConfigArgError('At least one entity type must be specified')
    if (types.length > 1 && !(types.length === 2 && types.includes('users') && types.includes('clients'))) throw new ConfigArgError('Only \'users\' and \'clients\' entity types may be specified together')
    const specific = [...ENTITY_FLAGS, ...DEFAULT_FLAGS].some(([f]) => flags[f] !== undefined && flags[f] !== false)
    if ((flags['entity-name'] || flags['entity-type'] || flags['entity-default']) && specific) throw new ConfigArgError('--entity-{type,name,default} should not be used in conjunction with specific entity flags')
    const hasName = names.some(n => n !== '')
    const hasDefault = names.some(n => n === '')
    const connects = [flags['bootstrap-server'], flags['bootstrap-controller'], flags.zookeeper].filter(x => x !== undefined).length
    if (connects === 0) throw new ConfigArgError('One of the required --bootstrap-server, --boostrap-controller, or --zookeeper arguments must be specified')
    if (connects > 1) throw new ConfigArgError('Only one of --bootstrap-server, --boostrap-controller, and --zookeeper can be specified')
    if (flags.all && flags.zookeeper !== undefined) throw new ConfigArgError('--bootstrap-server must be specified for --all')
    if (flags['zk-tls-config-file'] !== undefined && flags.zookeeper === undefined) throw new ConfigArgError('Only the --zookeeper option can be used with the --zk-tls-config-file option.')
    if (hasName && (types.includes('brokers') || types.includes('broker-loggers'))) {
      for (const id of [...(flags['entity-name'] ?? []), flags.broker, flags['broker-logger']].filter((x): x is string => x !== undefined)) {
        if (!/^[+-]?\d+$/.test(id) || Math.abs(Number(id)) > 2147483647) throw new ConfigArgError(`The entity name for ${types[0]} must be a valid integer broker id, but it is: ${id}`)
      }
    }
    if (hasName && types.includes('ips')) {
      for (const ip of [...(flags['entity-name'] ?? []), flags.ip].filter((x): x is string => x !== undefined)) {
        if (!isIP(ip) && !/^[A-Za-z0-9.-]+$/.test(ip)) throw new ConfigArgError(`The entity name for ${types[0]} must be a valid IP or resolvable host, but it is: ${ip}`)
      }
    }
    if (flags.describe && types.includes('broker-loggers') && !hasName) throw new ConfigArgError(`an entity name must be specified with --describe of ${types.join(',')}`)
    if (flags.alter) {
      if (['users', 'clients', 'brokers', 'ips'].some(t => types.includes(t))) {
        if (!hasName && !hasDefault) throw new ConfigArgError('an entity-name or default entity must be specified with --alter of users, clients, brokers or ips')
      } else if (!hasName) throw new ConfigArgError(`an entity name must be specified with --alter of ${types.join(',')}`)
      if (flags['add-config'] !== undefined && flags['add-config-file'] !== undefined) throw new ConfigArgError('Only one of --add-config or --add-config-file must be specified')
      if (flags['add-config'] === undefined && flags['add-config-file'] === undefined && flags['delete-config'] === undefined) throw new ConfigArgError('At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter')
    }
    if (flags['bootstrap-controller'] !== undefined) throw new ConfigArgError('kafkit\'s kafka-configs works through --bootstrap-server or --zookeeper (--bootstrap-controller is KRaft only and not supported)')
  }

  // ------------------------------------------------------------------ alter

  private async alter(admin: Admin, flags: Flags, types: string[], names: string[]): Promise<void> {
    const type = types[0]
    const name = names[0]
    const added = await this.configsToAdd(flags)
    const deleted = ((flags['delete-config'] ?? []) as string[]).flatMap(v => javaSplit(v, ',')).map(k => k.trim())
    const c = admin.client
    switch (type) {
      case 'topics': {
        const old = await this.resourceConfig(admin, type, name, false, false)
        invalidDeletes(deleted, old.map(e => e.name))
        await incrementalAlterConfigs(c, ConfigResourceType.TOPIC, name, [...[...added].map(([k, v]) => ({name: k, op: OpType.SET, value: v})), ...deleted.map(k => ({name: k, op: OpType.DELETE, value: ''}))])
        break
      }
      case 'brokers': {
        const old = await this.resourceConfig(admin, type, name, false, false)
        invalidDeletes(deleted, old.map(e => e.name))
        const entries = new Map<string, string | null>(old.map(e => [e.name, e.value]))
        for (const [k, v] of added) entries.set(k, v)
        for (const k of deleted) entries.delete(k)
        const secret = [...entries].filter(([, v]) => v === null).map(([k]) => k)
        if (secret.length) throw new ConfigArgError(`All sensitive broker config entries must be specified for --alter, missing entries: Set(${secret.join(', ')})`)
        await alterConfigs(c, ConfigResourceType.BROKER, name, [...entries].map(([k, v]) => ({name: k, value: v})))
        break
      }
      case 'broker-loggers':
        throw new ConfigArgError('kafkit\'s broker has no broker-loggers resource (log levels are set in its log configuration)')
      case 'users':
      case 'clients': {
        const isScram = (k: string) => SCRAM_MECHANISMS[k] !== undefined
        const isQuota = (k: string) => QUOTA_KEYS.includes(k)
        const addKeys: string[] = [...added.keys()]
        const scramAdd = addKeys.filter(isScram)
        const unknownAdd = addKeys.filter(k => !isScram(k) && !isQuota(k))
        const scramDel = deleted.filter(isScram)
        const unknownDel = deleted.filter(k => !isScram(k) && !isQuota(k))
        const quotaChange = addKeys.some(isQuota) || deleted.some(isQuota)
        if (type === 'clients' || types.length === 2) {
          if (unknownAdd.length || scramAdd.length) throw new ConfigArgError(`Only quota configs can be added for 'clients' using --bootstrap-server. Unexpected config names: Set(${[...unknownAdd, ...scramAdd].join(', ')})`)
          if (unknownDel.length || scramDel.length) throw new ConfigArgError(`Only quota configs can be deleted for 'clients' using --bootstrap-server. Unexpected config names: ArrayBuffer(${[...unknownDel, ...scramDel].join(', ')})`)
        } else {
          if (unknownAdd.length) throw new ConfigArgError(`Only quota and SCRAM credential configs can be added for 'users' using --bootstrap-server. Unexpected config names: Set(${unknownAdd.join(', ')})`)
          if (unknownDel.length) throw new ConfigArgError(`Only quota and SCRAM credential configs can be deleted for 'users' using --bootstrap-server. Unexpected config names: ArrayBuffer(${unknownDel.join(', ')})`)
          if (scramAdd.length || scramDel.length) {
            if (names.some(n => n === '')) throw new ConfigArgError('The use of --entity-default or --user-defaults is not allowed with User SCRAM Credentials using --bootstrap-server.')
            if (quotaChange) throw new ConfigArgError('Cannot alter both quota and SCRAM credential configs simultaneously for \'users\' using --bootstrap-server.')
          }
        }
        if (quotaChange) await this.alterQuotas(admin, types, names, added, deleted)
        else {
          const upsertions = scramAdd.map(m => ({mechanism: m, ...scramCredential(m, added.get(m)!)}))
          await alterUserScramCredentials(c, names[0], scramDel, upsertions)
        }
        break
      }
      case 'ips': {
        const unknown = [...added.keys(), ...deleted].filter(k => !IP_KEYS.includes(k))
        if (unknown.length) throw new ConfigArgError(`Only connection quota configs can be added for 'ips' using --bootstrap-server. Unexpected config names: ${unknown.join(',')}`)
        await this.alterQuotas(admin, types, names, added, deleted)
        break
      }
      default:
        throw new ConfigArgError(`Unsupported entity type: ${type}`)
    }
    if (name !== '') await this.writeOut(`Completed updating config for ${type.slice(0, -1)} ${name}.\n`)
    else await this.writeOut(`Completed updating default config for ${type} in the cluster.\n`)
  }

  /** ConfigCommand.parseConfigsToBeAdded: --add-config-file, then --add-config ('k1=v1,k2=[a,b]'). */
  private async configsToAdd(flags: Flags): Promise<Map<string, string>> {
    const props = new Map<string, string>()
    if (flags['add-config-file'] !== undefined) for (const [k, v] of loadClientProperties(flags['add-config-file'])) props.set(k, v)
    if (flags['add-config'] !== undefined) {
      const outsideBrackets = '(?=[^\\]]*(?:\\[|$))'
      const pairs = (flags['add-config'] as string).split(new RegExp(',' + outsideBrackets)).map((p: string) => splitAll(p, new RegExp('\\s*=\\s*' + outsideBrackets)))
      if (!pairs.every((p: string[]) => p.length === 2)) throw new ConfigArgError('requirement failed: Invalid entity config: all configs to be added must be in the format "key=val".')
      for (const [k, v] of pairs) props.set(k.trim(), v.replace(/[[\]]/g, '').trim())
    }
    if (props.has('message.format.version')) {
      await this.writeOut(`WARNING: The configuration message.format.version=${props.get('message.format.version')} is specified. This configuration will be ignored if the version is newer than the inter.broker.protocol.version specified in the broker or if the inter.broker.protocol.version is 3.0 or newer. This configuration is deprecated and it will be removed in Apache Kafka 4.0.\n`)
    }
    for (const k of props.keys()) if (!/^[a-zA-Z0-9._-]*$/.test(k)) throw new ConfigArgError(`Invalid character found for config key: ${k}`)
    return props
  }

  private async alterQuotas(admin: Admin, types: string[], names: string[], added: Map<string, string>, deleted: string[]): Promise<void> {
    const old = await this.quotaConfig(admin, types, names)
    invalidDeletes(deleted, [...old.keys()] as string[])
    const entity: QuotaEntity = types.map((t, i) => ({type: quotaType(t), name: names[i] !== '' ? names[i] : null}))
    const ops: {key: string; value: number | null}[] = []
    for (const [k, v] of added) {
      const d = parseJavaDouble(v)
      if (d === undefined) throw new ConfigArgError(`Cannot parse quota configuration value for ${k}: ${v}`)
      ops.push({key: k, value: d})
    }
    for (const k of deleted) ops.push({key: k, value: null})
    await alterClientQuotas(admin.client, entity, ops)
  }

  // ------------------------------------------------------------------ describe

  private async describe(admin: Admin, flags: Flags, types: string[], names: string[]): Promise<void> {
    const type = types[0]
    if (type === 'topics' || type === 'brokers' || type === 'broker-loggers') {
      let entities: string[]
      if (names.length > 0) entities = [names[0]]
      else if (type === 'topics') entities = javaHashOrder((await admin.listTopics(true)).map(t => t.name), javaStringHash)
      else entities = [...(await admin.client.metadata([], undefined, 'describeCluster')).brokers.map(b => String(b.nodeId)), '']
      for (const entity of entities) {
        await this.writeOut((entity === '' ? `Default configs for ${type} in the cluster are:` : `${flags.all ? 'All' : 'Dynamic'} configs for ${type.slice(0, -1)} ${entity} are:`) + '\n')
        const lines: string[] = []
        for (const e of await this.resourceConfig(admin, type, entity, true, flags.all)) {
          const synonyms = e.synonyms.map(s => `${CONFIG_SOURCES[s.source] ?? 'UNKNOWN'}:${s.name}=${s.value}`).join(', ')
          lines.push(`  ${e.name}=${e.value} sensitive=${e.isSensitive} synonyms={${synonyms}}`)
        }
        if (lines.length) await this.writeOut(lines.join('\n') + '\n')
      }
      return
    }
    if (type === 'users' || type === 'clients' || type === 'ips') {
      await this.describeQuotas(admin, types, names)
      if (type !== 'ips' && !types.includes('clients') && !names.includes('')) {
        const lines: string[] = []
        for (const r of await describeUserScramCredentials(admin.client, names.length ? names : null)) {
          if (r.error && r.error instanceof KafkaClientError && r.error.code === 91) continue // RESOURCE_NOT_FOUND: no credentials
          if (r.error) lines.push(`Error retrieving SCRAM credential configs for user-principal '${r.user}': ${(r.error as KafkaClientError).exceptionClass ?? 'Exception'}: ${r.error.message}`)
          else lines.push(`SCRAM credential configs for user-principal '${r.user}' are ${r.credentials.map(cr => `${cr.mechanism}=iterations=${cr.iterations}`).join(', ')}`)
        }
        if (lines.length) await this.writeOut(lines.join('\n') + '\n')
      }
      return
    }
    throw new ConfigArgError(`Invalid entity type: ${type}`)
  }

  /** ConfigCommand.getResourceConfig: the entries (dynamic ones unless all), sorted by name. */
  private async resourceConfig(admin: Admin, type: string, name: string, synonyms: boolean, all: boolean): Promise<ConfigEntry[]> {
    let resourceType: number
    let dynamicSource: number | undefined
    const validateBrokerId = () => {
      if (!/^[+-]?\d+$/.test(name)) throw new ConfigArgError(`The entity name for ${type} must be a valid integer broker id, found: ${name}`)
    }
    if (type === 'topics') {
      const bad = name !== '' ? invalidTopicName(name) : undefined
      if (bad) throw new ToolError(`org.apache.kafka.common.errors.InvalidTopicException: ${bad}`)
      resourceType = ConfigResourceType.TOPIC
      dynamicSource = 1
    } else if (type === 'brokers') {
      if (name !== '') validateBrokerId()
      resourceType = ConfigResourceType.BROKER
      dynamicSource = name === '' ? 3 : 2
    } else {
      if (name !== '') validateBrokerId()
      resourceType = ConfigResourceType.BROKER_LOGGER
    }
    const entries = await describeConfigs(admin.client, resourceType, name, synonyms)
    return entries.filter(e => all || dynamicSource === undefined || e.configSource === dynamicSource).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  private async quotaEntries(admin: Admin, types: string[], names: string[]) {
    if (names.length > types.length) throw new ConfigArgError('More entity names specified than entity types')
    const components: QuotaComponent[] = types.map((t, i) => {
      const type = quotaType(t)
      if (i >= names.length) return {type, match: 'any'}
      return names[i] === '' ? {type, match: 'default'} : {type, match: 'exact', name: names[i]}
    })
    const entries = await describeClientQuotas(admin.client, components)
    // A HashMap<ClientQuotaEntity, ...> sized for the entries: Objects.hash(entries map).
    const entityHash = (e: QuotaEntity) => (31 + e.reduce((h, x) => (h + (javaStringHash(x.type) ^ (x.name === null ? 0 : javaStringHash(x.name)))) | 0, 0)) | 0
    return javaHashOrder(entries, e => entityHash(e.entity), entries.length)
  }

  private async quotaConfig(admin: Admin, types: string[], names: string[]): Promise<Map<string, number>> {
    if (types.length !== names.length) throw new ConfigArgError('Exactly one entity name must be specified for every entity type')
    const first = (await this.quotaEntries(admin, types, names))[0]
    return new Map((first?.values ?? []).map(v => [v.key, v.value]))
  }

  private async describeQuotas(admin: Admin, types: string[], names: string[]): Promise<void> {
    const lines: string[] = []
    for (const e of await this.quotaEntries(admin, types, names)) {
      const part = (type: string, label: string) => {
        const x = e.entity.find(y => y.type === type)
        if (!x) return []
        return [x.name !== null ? `${label} '${x.name}'` : `the default ${label}`]
      }
      const entity = [...part('user', 'user-principal'), ...part('client-id', 'client-id'), ...part('ip', 'ip')].join(', ')
      const values = javaHashOrder(e.values, v => javaStringHash(v.key), e.values.length).map(v => `${v.key}=${javaDouble(v.value)}`).join(', ')
      lines.push(`Quota configs for ${entity} are ${values}`)
    }
    if (lines.length) await this.writeOut(lines.join('\n') + '\n')
  }
}

type Flags = Awaited<ReturnType<KafkaConfigs['parse']>>['flags'] & Record<string, any>

function invalidDeletes(deleted: string[], existing: string[]): void {
  const invalid = deleted.filter(k => !existing.includes(k))
  if (invalid.length) throw new ConfigArgError(`Invalid config(s): ${invalid.join(',')}`)
}

function quotaType(t: string): string {
  if (t === 'users') return 'user'
  if (t === 'clients') return 'client-id'
  if (t === 'ips') return 'ip'
  throw new ConfigArgError(`Unexpected entity type ${t}`)
}

/** Java's String.split(regex, -1): every piece, trailing empty ones included. */
function splitAll(s: string, re: RegExp): string[] {
  return s.split(re)
}

/** Java's Double.parseDouble (undefined when it would throw). */
function parseJavaDouble(s: string): number | undefined {
  const t = s.trim()
  if (!/^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)$/.test(t)) return undefined
  return Number(t.replace(/[fFdD]$/, ''))
}

/** 'iterations=8192,password=secret' (iterations optional, -1 the default) as ConfigCommand reads it. */
function scramCredential(mechanism: string, value: string): {iterations: number; password: string} {
  const m = /^(?:iterations=(-?[0-9]*),)?password=(.*)$/s.exec(value)
  if (!m) throw new ConfigArgError(`Invalid credential property ${mechanism.replace(/-/g, '_')}=${value}`)
  let iterations = DEFAULT_SCRAM_ITERATIONS
  if (m[1] !== undefined && m[1] !== '-1') {
    if (!/^-?\d+$/.test(m[1])) throw new ConfigArgError(`For input string: "${m[1]}"`)
    iterations = Number(m[1])
  }
  const min = SCRAM_MECHANISMS[mechanism].minIterations
  if (iterations < min) throw new ConfigArgError(`Iterations ${iterations} is less than the minimum ${min} required for ${mechanism}`)
  return {iterations, password: m[2]}
}
