// kafka-configs' admin calls, as Java's KafkaAdminClient makes them: DescribeConfigs,
// AlterConfigs and IncrementalAlterConfigs (a broker resource with an id goes to that broker,
// everything else to any broker), DescribeClientQuotas / AlterClientQuotas, and the users'
// SCRAM credentials (DescribeUserScramCredentials / AlterUserScramCredentials, the salted
// password computed here with PBKDF2 as Java's ScramFormatter does).
import {pbkdf2Sync, randomBytes} from 'node:crypto'
import {AdminClient, type AdminTarget} from '../admin-client.js'
import {KafkaClientError, apiError} from '../kafka-errors.js'
import {
  AlterClientQuotas, AlterConfigs, AlterUserScramCredentials, DescribeClientQuotas, DescribeConfigs, DescribeUserScramCredentials,
  IncrementalAlterConfigs, type DescribeConfigsResponseDescribeConfigsResourceResult,
} from '../../protocol/messages.js'

export const ConfigResourceType = {TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8} as const
export const CONFIG_SOURCES = ['UNKNOWN', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG', 'CLIENT_METRICS_CONFIG']
export const OpType = {SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3} as const

export type ConfigEntry = DescribeConfigsResponseDescribeConfigsResourceResult

/** A resource's error: the call fails with it, no retry (as Java's describeConfigs/alterConfigs futures). */
function resourceError(code: number, message: string | null): KafkaClientError {
  const e = apiError(code, message ?? undefined)
  return new KafkaClientError(e.exceptionClass, message ?? e.message, code, false)
}

/** Java's routing: a broker (or broker-logger) resource with an id goes to that broker. */
function targetOf(type: number, name: string): AdminTarget {
  return (type === ConfigResourceType.BROKER || type === ConfigResourceType.BROKER_LOGGER) && /^\d+$/.test(name) ? {kind: 'node', id: Number(name)} : {kind: 'any'}
}

export async function describeConfigs(admin: AdminClient, type: number, name: string, includeSynonyms: boolean): Promise<ConfigEntry[]> {
  return admin.call('describeConfigs', targetOf(type, name), DescribeConfigs, {resources: [{resourceType: type, resourceName: name, configurationKeys: null}], includeSynonyms, includeDocumentation: false}, {
    handle: res => {
      const r = res.results[0]
      if (!r) throw apiError(-1, 'The broker did not answer for the resource')
      if (r.errorCode !== 0) throw resourceError(r.errorCode, r.errorMessage)
      return r.configs
    },
  })
}

/** AlterConfigs: the entries become the resource's whole dynamic config. */
export async function alterConfigs(admin: AdminClient, type: number, name: string, configs: {name: string; value: string | null}[]): Promise<void> {
  await admin.call('alterConfigs', targetOf(type, name), AlterConfigs, {resources: [{resourceType: type, resourceName: name, configs}], validateOnly: false}, {
    handle: res => {
      const r = res.responses[0]
      if (r && r.errorCode !== 0) throw resourceError(r.errorCode, r.errorMessage)
    },
  })
}

export async function incrementalAlterConfigs(admin: AdminClient, type: number, name: string, ops: {name: string; op: number; value: string | null}[]): Promise<void> {
  await admin.call('incrementalAlterConfigs', targetOf(type, name), IncrementalAlterConfigs, {
    resources: [{resourceType: type, resourceName: name, configs: ops.map(o => ({name: o.name, configOperation: o.op, value: o.value}))}], validateOnly: false,
  }, {
    handle: res => {
      const r = res.responses[0]
      if (r && r.errorCode !== 0) throw resourceError(r.errorCode, r.errorMessage)
    },
  })
}

/** A quota entity: entity type (user, client-id, ip) to name (null: the default entity). */
export type QuotaEntity = {type: string; name: string | null}[]

/** A filter component: a given name, the default entity (name null, isDefault) or any of the type. */
export type QuotaComponent = {type: string; match: 'exact' | 'default' | 'any'; name?: string}

export async function describeClientQuotas(admin: AdminClient, components: QuotaComponent[], strict = true): Promise<{entity: QuotaEntity; values: {key: string; value: number}[]}[]> {
  return admin.call('describeClientQuotas', {kind: 'any'}, DescribeClientQuotas, {
    components: components.map(c => ({entityType: c.type, matchType: c.match === 'exact' ? 0 : c.match === 'default' ? 1 : 2, match: c.match === 'exact' ? c.name ?? null : null})),
    strict,
  }, {
    handle: res => {
      if (res.errorCode !== 0) throw apiError(res.errorCode, res.errorMessage)
      return (res.entries ?? []).map(e => ({entity: e.entity.map(x => ({type: x.entityType, name: x.entityName})), values: e.values}))
    },
  })
}

/** ops: value null removes the key. */
export async function alterClientQuotas(admin: AdminClient, entity: QuotaEntity, ops: {key: string; value: number | null}[]): Promise<void> {
  await admin.call('alterClientQuotas', {kind: 'any'}, AlterClientQuotas, {
    entries: [{entity: entity.map(x => ({entityType: x.type, entityName: x.name})), ops: ops.map(o => ({key: o.key, value: o.value ?? 0, remove: o.value === null}))}],
    validateOnly: false,
  }, {
    handle: res => {
      for (const e of res.entries) if (e.errorCode !== 0) throw resourceError(e.errorCode, e.errorMessage)
    },
  })
}

export const SCRAM_MECHANISMS: Record<string, {type: number; hash: 'sha256' | 'sha512'; minIterations: number}> = {
  'SCRAM-SHA-256': {type: 1, hash: 'sha256', minIterations: 4096},
  'SCRAM-SHA-512': {type: 2, hash: 'sha512', minIterations: 4096},
}
const MECHANISM_NAMES: Record<number, string> = {1: 'SCRAM-SHA-256', 2: 'SCRAM-SHA-512'}

/** Each user's credentials (mechanism name, iterations), or the error the broker gave for it. */
export async function describeUserScramCredentials(admin: AdminClient, users: string[] | null): Promise<{user: string; error?: Error; credentials: {mechanism: string; iterations: number}[]}[]> {
  return admin.call('describeUserScramCredentials', {kind: 'any'}, DescribeUserScramCredentials, {users: users === null ? null : users.map(name => ({name}))}, {
    handle: res => {
      if (res.errorCode !== 0) throw apiError(res.errorCode, res.errorMessage)
      return res.results.map(r => ({
        user: r.user,
        error: r.errorCode !== 0 ? apiError(r.errorCode, r.errorMessage) : undefined,
        credentials: r.credentialInfos.map(c => ({mechanism: MECHANISM_NAMES[c.mechanism] ?? 'UNKNOWN', iterations: c.iterations})),
      }))
    },
  })
}

export async function alterUserScramCredentials(admin: AdminClient, user: string, deletions: string[], upsertions: {mechanism: string; iterations: number; password: string}[]): Promise<void> {
  await admin.call('alterUserScramCredentials', {kind: 'controller'}, AlterUserScramCredentials, {
    deletions: deletions.map(m => ({name: user, mechanism: SCRAM_MECHANISMS[m].type})),
    upsertions: upsertions.map(u => {
      const m = SCRAM_MECHANISMS[u.mechanism]
      const salt = randomBytes(32)
      const saltedPassword = pbkdf2Sync(Buffer.from(u.password, 'utf8'), salt, u.iterations, m.hash === 'sha256' ? 32 : 64, m.hash)
      return {name: user, mechanism: m.type, iterations: u.iterations, salt, saltedPassword}
    }),
  }, {
    handle: res => {
      for (const r of res.results) if (r.errorCode !== 0) throw resourceError(r.errorCode, r.errorMessage)
    },
  })
}
