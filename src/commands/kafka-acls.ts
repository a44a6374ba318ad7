// kafka-acls: add, remove and list ACLs through the Admin API (DescribeAcls, CreateAcls,
// DeleteAcls), with Apache Kafka 3.9's flags, checks, messages and output:
//   Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)`:
//    	(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)
import {Flags} from '@oclif/core'
import {createInterface} from 'node:readline'
import {KafkaCommand, loadClientProperties, UsageError, ToolError} from './base.js'
import {AdminClient} from '../core/client/admin-client.js'
import {ClientConfig} from '../core/client/config.js'
import {KafkaClientError} from '../core/client/kafka-errors.js'
import {describeAcls, createAcls, deleteAcls} from '../core/client/admin/acls.js'
import {
  ResourceType, PatternType, AclOperation, Permission, CLUSTER_NAME, SUPPORTED_OPERATIONS, OPERATION_NAMES, PATTERN_NAMES,
  operationCode, entryKey, patternKey, type AccessControlEntry, type AclBinding, type AclBindingFilter, type ResourcePattern,
} from '../core/security/acl.js'

const multi = (description: string, helpValue: string) => Flags.string({description, helpValue, multiple: true, multipleNonGreedy: true})
const enumName = (obj: Record<string, number>, code: number) => Object.keys(obj).find(k => obj[k] === code) ?? 'UNKNOWN'

/** Kafka's ResourcePattern / ResourcePatternFilter toString. */
export function patternString(p: {resourceType: number; name: string | null; patternType: number}): string {
  return `ResourcePattern(resourceType=${enumName(ResourceType, p.resourceType)}, name=${p.name ?? '<any>'}, patternType=${PATTERN_NAMES[p.patternType]})`
}

/** Kafka's AccessControlEntry toString. */
export function entryString(e: AccessControlEntry): string {
  return `(principal=${e.principal}, host=${e.host}, operation=${enumName(AclOperation, e.operation)}, permissionType=${enumName(Permission, e.permissionType)})`
}

/** The block Kafka prints for a resource and its entries ("Adding ACLs for resource `...`: ..."). */
export function aclBlock(title: string, pattern: string, entries: AccessControlEntry[]): string {
  return `${title} \`${pattern}\`: \n ${entries.map(e => '\t' + entryString(e)).join('\n')} \n\n`
}

interface Filter {
  resourceType: number
  name: string
  patternType: number
}

const CLUSTER_FILTER: Filter = {resourceType: ResourceType.CLUSTER, name: CLUSTER_NAME, patternType: PatternType.LITERAL}
const filterKey = (f: Filter) => `${f.resourceType}\0${f.patternType}\0${f.name}`

export default class KafkaAcls extends KafkaCommand {
  static hidden = false
  static summary = 'This tool helps to manage acls on kafka.'
  static description = 'Adds, removes and lists ACLs through the broker\'s Admin API (the broker needs an authorizer: authorizer.class.name=kafka.security.authorizer.AclAuthorizer). Exactly one action is required: --add, --remove or --list. Output matches Apache Kafka 3.9\'s kafka-acls.'
  static examples = [
    'kafka-acls --bootstrap-server localhost:9092 --add --allow-principal User:alice --operation Read --topic orders',
    'kafka-acls --bootstrap-server localhost:9092 --add --allow-principal User:bob --producer --topic orders --idempotent',
    'kafka-acls --bootstrap-server localhost:9092 --add --allow-principal User:carol --consumer --topic orders --group billing',
    'kafka-acls --bootstrap-server localhost:9092 --list --topic orders --resource-pattern-type match',
    'kafka-acls --bootstrap-server localhost:9092 --remove --topic orders --force',
  ]

  static flags = {
    'bootstrap-server': Flags.string({description: 'A list of host/port pairs to use for establishing the connection to the Kafka cluster. This list should be in the form host1:port1,host2:port2,... This config is required for acl management using admin client API.', helpValue: '<server to connect to>'}),
    'bootstrap-controller': Flags.string({description: 'A list of host/port pairs of KRaft controllers (not supported by kafkit: ZooKeeper mode only).', helpValue: '<controller to connect to>', hidden: true}),
    'command-config': Flags.string({description: 'A property file containing configs to be passed to Admin Client.', helpValue: '<command-config>'}),
    add: Flags.boolean({description: 'Indicates you are trying to add ACLs.'}),
    remove: Flags.boolean({description: 'Indicates you are trying to remove ACLs.'}),
    list: Flags.boolean({description: 'List ACLs for the specified resource, use --topic <topic> or --group <group> or --cluster to specify a resource.'}),
    topic: multi('topic to which ACLs should be added or removed. A value of \'*\' indicates ACL should apply to all topics.', '<topic>'),
    cluster: Flags.boolean({description: 'Add/Remove cluster ACLs.'}),
    group: multi('Consumer Group to which the ACLs should be added or removed. A value of \'*\' indicates the ACLs should apply to all groups.', '<group>'),
    'transactional-id': multi('The transactionalId to which ACLs should be added or removed. A value of \'*\' indicates the ACLs should apply to all transactionalIds.', '<transactional-id>'),
    'delegation-token': multi('Delegation token to which ACLs should be added or removed. A value of \'*\' indicates ACL should apply to all tokens.', '<delegation-token>'),
    'user-principal': multi('Specifies a user principal as a resource in relation with the operation. For instance one could grant CreateTokens or DescribeTokens permission on a given user principal.', '<user-principal>'),
    idempotent: Flags.boolean({description: 'Enable idempotence for the producer. This should be used in combination with the --producer option. Note that idempotence is enabled automatically if the producer is authorized to a particular transactional-id.'}),
    'resource-pattern-type': Flags.string({description: 'The type of the resource pattern or pattern filter. When adding acls, this should be a specific pattern type, e.g. \'literal\' or \'prefixed\'. When listing or removing acls, a specific pattern type can be used to list or remove acls from specific resource patterns, or use the filter values of \'any\' or \'match\', where \'any\' will match any pattern type, but will match the resource name exactly, where as \'match\' will perform pattern matching to list or remove all acls that affect the supplied resource(s). WARNING: \'match\', when used in combination with the \'--remove\' switch, should be used with care. (default: LITERAL)', helpValue: '<ANY|MATCH|LITERAL|PREFIXED>'}),
    operation: multi('Operation that is being allowed or denied. Valid operation names are: All, Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens (default: All)', '<operation>'),
    'allow-principal': multi('principal is in principalType:name format. Note that principalType must be supported by the Authorizer being used. For example, User:\'*\' is the wild card indicating all users.', '<allow-principal>'),
    'deny-principal': multi('principal is in principalType:name format. By default anyone not added through --allow-principal is denied access. You only need to use this option as negation to already allowed set. AND PLEASE REMEMBER DENY RULES TAKES PRECEDENCE OVER ALLOW RULES.', '<deny-principal>'),
    principal: multi('List ACLs for the specified principal. principal is in principalType:name format. Note that principalType must be supported by the Authorizer being used. Multiple --principal option can be passed.', '<principal>'),
    'allow-host': multi('Host from which principals listed in --allow-principal will have access. If you have specified --allow-principal then the default for this option will be set to \'*\' which allows access from all hosts.', '<allow-host>'),
    'deny-host': multi('Host from which principals listed in --deny-principal will be denied access. If you have specified --deny-principal then the default for this option will be set to \'*\' which denies access from all hosts.', '<deny-host>'),
    producer: Flags.boolean({description: 'Convenience option to add/remove ACLs for producer role. This will generate ACLs that allows WRITE,DESCRIBE and CREATE on topic.'}),
    consumer: Flags.boolean({description: 'Convenience option to add/remove ACLs for consumer role. This will generate ACLs that allows READ,DESCRIBE on topic and READ on group.'}),
    force: Flags.boolean({description: 'Assume Yes to all queries and do not prompt.'}),
  }

  private flagsSeen!: AclFlags
  private patternType: number = PatternType.LITERAL

  async run(): Promise<void> {
    if (this.argv.length === 0) throw new UsageError('This tool helps to manage acls on kafka.')
    const {flags} = await this.parse(KafkaAcls)
    this.flagsSeen = flags
    this.checkArgs(flags)
    if (flags['resource-pattern-type'] !== undefined) {
      const code = (PatternType as Record<string, number>)[flags['resource-pattern-type'].trim().toUpperCase()]
      if (code === undefined || code === PatternType.UNKNOWN) throw new UsageError(`Unknown resource-pattern-type: ${flags['resource-pattern-type']}`)
      this.patternType = code
    }
    let client: AdminClient | undefined
    try {
      if (flags.add) {
        const toAdd = this.resourceToAcls(true)
        client = this.admin(flags)
        for (const [pattern, entries] of toAdd) {
          this.log(aclBlock('Adding ACLs for resource', patternString(pattern), entries).slice(0, -1))
          await createAcls(client, entries.map(entry => ({pattern, entry})))
        }
      } else if (flags.remove) {
        client = this.admin(flags)
        for (const [filter, entries] of this.resourceToAcls(false)) {
          const f = patternString(filter)
          if (entries.length === 0) {
            if (await this.confirm(flags.force, `Are you sure you want to delete all ACLs for resource filter \`${f}\`? (y/n)`)) {
              await deleteAcls(client, [{...filter, principal: null, host: null, operation: AclOperation.ANY, permissionType: Permission.ANY}])
            }
          } else if (await this.confirm(flags.force, `Are you sure you want to remove ACLs: \n ${entries.map(e => '\t' + entryString(e)).join('\n')} \n from resource filter \`${f}\`? (y/n)`)) {
            await deleteAcls(client, entries.map(e => ({...filter, ...e})))
          }
        }
      } else {
        client = this.admin(flags)
        await this.list(client, flags)
      }
    } catch (error) {
      if (error instanceof UsageError || error instanceof ToolError) throw error
      const e = error as Error
      throw new ToolError(`Error while executing ACL command: ${e instanceof KafkaClientError ? e.toString() : e.message}`, true)
    } finally {
      client?.close()
    }
  }

  private admin(flags: AclFlags): AdminClient {
    return new AdminClient(flags['bootstrap-server']!, new ClientConfig(loadClientProperties(flags['command-config'])))
  }

  private checkArgs(flags: AclFlags): void {
    const has = (k: keyof AclFlags) => flags[k] !== undefined && flags[k] !== false
    if (has('bootstrap-server') && has('bootstrap-controller')) throw new UsageError('Only one of --bootstrap-server or --bootstrap-controller must be specified')
    if (!has('bootstrap-server')) {
      if (has('bootstrap-controller')) throw new UsageError('--bootstrap-controller is not supported by kafkit (ZooKeeper mode): use --bootstrap-server')
      throw new UsageError('One of --bootstrap-server or --bootstrap-controller must be specified')
    }
    if ([flags.add, flags.remove, flags.list].filter(Boolean).length !== 1) throw new UsageError('Command must include exactly one action: --list, --add, --remove. ')
    const invalid = (used: keyof AclFlags, others: (keyof AclFlags)[]) => {
      if (!has(used)) return
      for (const o of others) if (has(o)) throw new UsageError(`Option "[${used}]" can't be used with option "[${o}]"`)
    }
    invalid('list', ['producer', 'consumer', 'allow-host', 'allow-principal', 'deny-host', 'deny-principal'])
    invalid('producer', ['operation', 'deny-principal', 'deny-host'])
    invalid('consumer', ['operation', 'deny-principal', 'deny-host'])
    if (has('principal') && !has('list')) throw new UsageError('The --principal option is only available if --list is set')
    if (has('producer') && !has('topic')) throw new UsageError('With --producer you must specify a --topic')
    if (has('idempotent') && !has('producer')) throw new UsageError('The --idempotent option is only available if --producer is set')
    if (has('consumer') && (!has('topic') || !has('group') || (!has('producer') && (has('cluster') || has('transactional-id'))))) {
      throw new UsageError('With --consumer you must specify a --topic and a --group and no --cluster or --transactional-id option should be specified.')
    }
  }

  /** The resources the flags name (AclCommand.getResourceFilter), in flag order. */
  private resources(dieIfNone: boolean): Filter[] {
    const f = this.flagsSeen
    const out: Filter[] = []
    const add = (resourceType: number, names: string[] | undefined, trim = true) => {
      for (const n of names ?? []) out.push({resourceType, name: trim ? n.trim() : n, patternType: this.patternType})
    }
    add(ResourceType.TOPIC, f.topic)
    if (this.patternType === PatternType.LITERAL && (f.cluster || f.idempotent)) out.push(CLUSTER_FILTER)
    add(ResourceType.GROUP, f.group)
    add(ResourceType.TRANSACTIONAL_ID, f['transactional-id'], false)
    add(ResourceType.DELEGATION_TOKEN, f['delegation-token'])
    add(ResourceType.USER, f['user-principal'])
    const seen = new Set<string>()
    const unique = out.filter(r => !seen.has(filterKey(r)) && seen.add(filterKey(r)))
    if (unique.length === 0 && dieIfNone) throw new UsageError('You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --delegation-token <Delegation Token ID>')
    return unique
  }

  private principals(values: string[] | undefined): string[] {
    return [...new Set((values ?? []).map(s => {
      const t = s.trim()
      const i = t.indexOf(':')
      if (i < 0) throw new ToolError(`Error while executing ACL command: expected a string in format principalType:principalName but got ${t}`, true)
      return t
    }))]
  }

  private hosts(hostFlag: string[] | undefined, principalFlag: string[] | undefined): string[] {
    if (hostFlag && hostFlag.length > 0) return [...new Set(hostFlag.map(h => h.trim()))]
    return principalFlag && principalFlag.length > 0 ? ['*'] : []
  }

  /** AclCommand.getAcl: allow entries, then deny entries, principal x operation x host. */
  private entries(operations: number[]): AccessControlEntry[] {
    const f = this.flagsSeen
    const out: AccessControlEntry[] = []
    const make = (principals: string[], hosts: string[], permissionType: number) => {
      for (const principal of principals) for (const operation of operations) for (const host of hosts) out.push({principal, host, operation, permissionType})
    }
    const allowHosts = this.hosts(f['allow-host'], f['allow-principal'])
    const denyHosts = this.hosts(f['deny-host'], f['deny-principal'])
    make(this.principals(f['allow-principal']), allowHosts, Permission.ALLOW)
    make(this.principals(f['deny-principal']), denyHosts, Permission.DENY)
    return out
  }

  private cliOperations(): number[] {
    const names = this.flagsSeen.operation ?? ['All']
    return [...new Set(names.map(n => operationCode(n.trim()) ?? AclOperation.UNKNOWN))]
  }

  /** AclCommand.getResourceFilterToAcls (adding: resource patterns that must have entries). */
  private resourceToAcls(adding: boolean): [Filter, AccessControlEntry[]][] {
    const f = this.flagsSeen
    if (adding && this.patternType !== PatternType.LITERAL && this.patternType !== PatternType.PREFIXED) {
      throw new UsageError(`A '--resource-pattern-type' value of '${PATTERN_NAMES[this.patternType]}' is not valid when adding acls.`)
    }
    const map = new Map<string, [Filter, AccessControlEntry[]]>()
    const put = (r: Filter, entries: AccessControlEntry[], merge: boolean) => {
      const old = map.get(filterKey(r))
      const all = merge && old ? [...entries, ...old[1]] : entries
      const seen = new Set<string>()
      map.set(filterKey(r), [r, all.filter(e => !seen.has(entryKey(e)) && seen.add(entryKey(e)))])
    }
    if (!f.producer && !f.consumer) {
      const entries = this.entries(this.cliOperations())
      for (const r of this.resources(true)) put(r, entries, false)
    }
    if (f.producer) {
      const rs = this.resources(true)
      for (const r of rs.filter(r => r.resourceType === ResourceType.TOPIC)) put(r, this.entries([AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE]), false)
      for (const r of rs.filter(r => r.resourceType === ResourceType.TRANSACTIONAL_ID)) put(r, this.entries([AclOperation.WRITE, AclOperation.DESCRIBE]), false)
      if (f.idempotent) put(CLUSTER_FILTER, this.entries([AclOperation.IDEMPOTENT_WRITE]), false)
    }
    if (f.consumer) {
      const rs = this.resources(true)
      for (const r of rs.filter(r => r.resourceType === ResourceType.TOPIC)) put(r, this.entries([AclOperation.READ, AclOperation.DESCRIBE]), true)
      for (const r of rs.filter(r => r.resourceType === ResourceType.GROUP)) put(r, this.entries([AclOperation.READ]), true)
    }
    for (const [r, entries] of map.values()) {
      const valid = [...(SUPPORTED_OPERATIONS[r.resourceType] ?? []), AclOperation.ALL]
      if (entries.some(e => !valid.includes(e.operation))) throw new UsageError(`ResourceType ${enumName(ResourceType, r.resourceType)} only supports operations ${valid.map(o => OPERATION_NAMES[o]).join(', ')}`)
    }
    if (adding && [...map.values()].some(([, entries]) => entries.length === 0)) throw new UsageError('You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.')
    return [...map.values()]
  }

  private async list(client: AdminClient, flags: AclFlags): Promise<void> {
    const filters = this.resources(false)
    const any = {principal: null, host: null, operation: AclOperation.ANY, permissionType: Permission.ANY}
    const bindings: AclBinding[] = []
    if (filters.length === 0) bindings.push(...await describeAcls(client, {resourceType: ResourceType.ANY, name: null, patternType: PatternType.ANY, ...any}))
    else for (const r of filters) bindings.push(...await describeAcls(client, {...r, ...any} as AclBindingFilter))
    const byResource = new Map<string, [ResourcePattern, AccessControlEntry[]]>()
    for (const b of bindings) {
      const k = patternKey(b.pattern)
      const cur = byResource.get(k) ?? [b.pattern, []]
      if (!cur[1].some(e => entryKey(e) === entryKey(b.entry))) cur[1].push(b.entry)
      byResource.set(k, cur)
    }
    const print = (groups: [ResourcePattern, AccessControlEntry[]][]) => {
      for (const [pattern, entries] of groups) this.log(aclBlock('Current ACLs for resource', patternString(pattern), entries).slice(0, -1))
    }
    const principals = this.principals(flags.principal)
    if (principals.length === 0) return print([...byResource.values()])
    for (const p of principals) {
      this.log(`ACLs for principal \`${p}\``)
      print([...byResource.values()].map(([r, es]) => [r, es.filter(e => e.principal === p)] as [ResourcePattern, AccessControlEntry[]]).filter(([, es]) => es.length > 0))
    }
  }

  private async confirm(force: boolean, message: string): Promise<boolean> {
    if (force) return true
    this.log(message)
    const rl = createInterface({input: process.stdin})
    try {
      const line = await new Promise<string | undefined>(res => {
        rl.once('line', l => res(l))
        rl.once('close', () => res(undefined))
      })
      return (line ?? '').trim().toLowerCase() === 'y'
    } finally {
      rl.close()
    }
  }
}

type AclFlags = {
  'bootstrap-server'?: string
  'bootstrap-controller'?: string
  'command-config'?: string
  add: boolean
  remove: boolean
  list: boolean
  topic?: string[]
  cluster: boolean
  group?: string[]
  'transactional-id'?: string[]
  'delegation-token'?: string[]
  'user-principal'?: string[]
  idempotent: boolean
  'resource-pattern-type'?: string
  operation?: string[]
  'allow-principal'?: string[]
  'deny-principal'?: string[]
  principal?: string[]
  'allow-host'?: string[]
  'deny-host'?: string[]
  producer: boolean
  consumer: boolean
  force: boolean
}
