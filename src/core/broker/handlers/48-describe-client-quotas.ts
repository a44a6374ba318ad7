// DescribeClientQuotas (48): the quotas kept under /config/users, /config/users/<u>/clients and
// /config/clients (and /config/ips), filtered as Kafka's ZkAdminManager filters them (exact
// names, defaults, any; strict excludes entities with other parts).
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis, type DescribeClientQuotasResponseEntryData} from '../../protocol/messages.js'
import {desanitize, sanitize} from '../../security/entity-configs.js'
import {QUOTA_KEYS} from '../../security/quotas.js'

const DEFAULT = '<default>'
type Match = {kind: 'exact'; name: string | null} | {kind: 'any'}

class InvalidRequest extends Error {}

export const describeClientQuotas = defineHandler(Apis.DescribeClientQuotas, {
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const zk = ctx.broker.cluster.zkClient
    try {
      const comps = new Map<string, Match>()
      for (const c of req.components as {entityType: string; matchType: number; match: string | null}[]) {
        if (c.entityType === '') throw new InvalidRequest('Unexpected empty filter component entity type')
        if (!['user', 'client-id', 'ip'].includes(c.entityType)) return {throttleTimeMs: 0, errorCode: ErrorCode.UNSUPPORTED_VERSION, errorMessage: `Custom entity type '${c.entityType}' not supported`, entries: null}
        if (comps.has(c.entityType)) throw new InvalidRequest(`Duplicate ${c.entityType === 'client-id' ? 'client' : c.entityType} filter component entity type`)
        comps.set(c.entityType, c.matchType === 0 ? {kind: 'exact', name: c.match} : c.matchType === 1 ? {kind: 'exact', name: null} : {kind: 'any'})
      }
      if ((comps.has('user') || comps.has('client-id')) && comps.has('ip')) throw new InvalidRequest('Invalid entity filter component combination, IP filter component should not be used with user or clientId filter component.')
      const strict: boolean = req.strict
      const read = async (path: string): Promise<Record<string, string>> => (await zk.getJson<{config?: Record<string, string>}>(`/config/${path}`))?.value.config ?? {}
      const children = async (path: string): Promise<string[]> => await zk.getChildren(`/config/${path}`) ?? []
      const name = (s: string): string | null => s === DEFAULT ? null : desanitize(s)
      const san = (n: string | null): string => n === null ? DEFAULT : sanitize(n)
      const found: {user?: string | null; client?: string | null; ip?: string | null; props: Record<string, string>}[] = []
      const user = comps.get('user')
      const client = comps.get('client-id')
      const ip = comps.get('ip')
      if (ip === undefined) {
        const exactUser = user?.kind === 'exact'
        const exactClient = client?.kind === 'exact'
        const excludeUser = strict && user === undefined
        const excludeClient = strict && client === undefined
        if (exactUser && excludeClient) found.push({user: (user as {name: string | null}).name, props: await read(`users/${san((user as {name: string | null}).name)}`)})
        else if (!excludeUser && !exactClient) for (const u of await children('users')) found.push({user: name(u), props: await read(`users/${u}`)})
        if (excludeUser && exactClient) found.push({client: (client as {name: string | null}).name, props: await read(`clients/${san((client as {name: string | null}).name)}`)})
        else if (!exactUser && !excludeClient) for (const c of await children('clients')) found.push({client: name(c), props: await read(`clients/${c}`)})
        if (exactUser && exactClient) found.push({user: (user as {name: string | null}).name, client: (client as {name: string | null}).name, props: await read(`users/${san((user as {name: string | null}).name)}/clients/${san((client as {name: string | null}).name)}`)})
        else if (!excludeUser && !excludeClient) {
          for (const u of await children('users')) for (const c of await children(`users/${u}/clients`)) found.push({user: name(u), client: name(c), props: await read(`users/${u}/clients/${c}`)})
        }
      } else if (user === undefined && client === undefined) {
        if (ip.kind === 'exact') found.push({ip: ip.name, props: await read(`ips/${san(ip.name)}`)})
        else for (const i of await children('ips')) found.push({ip: name(i), props: await read(`ips/${i}`)})
      }
      const matches = (m: Match | undefined, v: string | null | undefined): boolean => {
        if (m === undefined) return v === undefined || !strict
        if (m.kind === 'any') return v !== undefined
        return v !== undefined && v === m.name
      }
      const entries: DescribeClientQuotasResponseEntryData[] = []
      const seen = new Set<string>()
      for (const f of found) {
        const keys = f.ip !== undefined ? ['connection_creation_rate'] : QUOTA_KEYS
        const values = Object.entries(f.props).filter(([k]) => keys.includes(k)).map(([key, value]) => ({key, value: Number(value)}))
        if (values.length === 0) continue
        if (f.ip === undefined && !(matches(user, f.user) && matches(client, f.client))) continue
        const entity = [...(f.user !== undefined ? [{entityType: 'user', entityName: f.user}] : []), ...(f.client !== undefined ? [{entityType: 'client-id', entityName: f.client}] : []), ...(f.ip !== undefined ? [{entityType: 'ip', entityName: f.ip}] : [])]
        const key = JSON.stringify(entity)
        if (seen.has(key)) continue
        seen.add(key)
        entries.push({entity, values})
      }
      return {throttleTimeMs: 0, errorCode: 0, errorMessage: null, entries}
    } catch (error) {
      if (error instanceof InvalidRequest) return {throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: error.message, entries: null}
      return {throttleTimeMs: 0, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (error as Error).message, entries: null}
    }
  },
})
