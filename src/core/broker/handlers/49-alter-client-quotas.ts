// AlterClientQuotas (49): sets or removes quotas of users, client ids, user/client-id pairs
// (and IPs) in /config/..., keeping the entity's other keys (a user's SCRAM credentials), with
// a change notification every broker acts on. Validation as Kafka's ZkAdminManager.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {sanitize} from '../../security/entity-configs.js'
import {QUOTA_KEY_TYPES} from '../../security/quotas.js'

class InvalidRequest extends Error {}

export const alterClientQuotas = defineHandler(Apis.AlterClientQuotas, {
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const entities = ctx.broker.security.entities!
    const entries: object[] = []
    for (const e of req.entries as {entity: {entityType: string; entityName: string | null}[]; ops: {key: string; value: number; remove: boolean}[]}[]) {
      const entity = e.entity.map(x => ({entityType: x.entityType, entityName: x.entityName}))
      try {
        if (e.entity.length === 0) throw new InvalidRequest('Invalid empty client quota entity')
        let user: string | undefined
        let client: string | undefined
        let ip: string | undefined
        for (const x of e.entity) {
          const n = x.entityName === null ? '<default>' : sanitize(x.entityName)
          if (x.entityType === 'user') user = n
          else if (x.entityType === 'client-id') client = n
          else if (x.entityType === 'ip') ip = n
          else throw new InvalidRequest(`Unhandled client quota entity type: ${x.entityType}`)
          if (x.entityName !== null && x.entityName === '') throw new InvalidRequest(`Empty ${x.entityType} not supported`)
        }
        let path: string
        let keys: Record<string, 'LONG' | 'DOUBLE' | 'INT'>
        if (ip !== undefined) {
          if (user !== undefined || client !== undefined) throw new InvalidRequest('Invalid quota entity combination, IP entity should not be used with user/client ID entity.')
          path = `ips/${ip}`
          keys = {connection_creation_rate: 'INT'}
        } else if (user !== undefined && client !== undefined) {
          path = `users/${user}/clients/${client}`
          keys = QUOTA_KEY_TYPES
        } else if (user !== undefined) {
          path = `users/${user}`
          keys = QUOTA_KEY_TYPES
        } else {
          path = `clients/${client}`
          keys = QUOTA_KEY_TYPES
        }
        const set: Record<string, string> = {}
        const remove: string[] = []
        for (const op of e.ops) {
          if (op.remove) { remove.push(op.key); continue }
          const type = keys[op.key]
          if (type === undefined) throw new InvalidRequest(`Invalid configuration key ${op.key}`)
          if (type === 'DOUBLE') set[op.key] = javaDouble(op.value)
          else {
            const n = Math.trunc(op.value + 1e-6)
            if (Math.abs(n - op.value) > 1e-6) throw new InvalidRequest(`Configuration ${op.key} must be a ${type} value`)
            set[op.key] = String(n)
          }
        }
        if (!req.validateOnly) {
          await entities.change(path, cfg => {
            for (const k of remove) delete cfg[k]
            return Object.assign(cfg, set)
          })
        }
        entries.push({errorCode: 0, errorMessage: null, entity})
      } catch (error) {
        if (error instanceof InvalidRequest) entries.push({errorCode: ErrorCode.INVALID_REQUEST, errorMessage: error.message, entity})
        else {
          ctx.broker.logger.info(`Error encountered while updating client quotas: ${(error as Error).message}`)
          entries.push({errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (error as Error).message, entity})
        }
      }
    }
    return {throttleTimeMs: 0, entries}
  },
})

/** A double as Java's Double.toString writes it (200 -> "200.0"). */
function javaDouble(v: number): string {
  return Number.isInteger(v) ? `${v}.0` : String(v)
}
