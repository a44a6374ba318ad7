// AlterUserScramCredentials (51): upserts (salt and salted password from the client, stored as
// Kafka stores them: salt, stored_key, server_key, iterations) and deletions of users' SCRAM
// credentials in /config/users/<user>, with a change notification every broker acts on.
// Validation and messages as Kafka's ZkAdminManager (iterations 4096..16384, one change per
// user and mechanism).
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {credentialFromSaltedPassword, credentialToString} from '../../security/sasl.js'
import {sanitize} from '../../security/entity-configs.js'

const NAMES: Record<number, string> = {1: 'SCRAM-SHA-256', 2: 'SCRAM-SHA-512'}
const MIN_ITERATIONS = 4096
const MAX_ITERATIONS = 16384

export const alterUserScramCredentials = defineHandler(Apis.AlterUserScramCredentials, {
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    const entities = ctx.broker.security.entities!
    const results: {user: string; errorCode: number; errorMessage: string | null}[] = []
    const illegal = new Map<string, string>()
    for (const d of req.deletions) {
      if (d.name === '') illegal.set(d.name, 'Username must not be empty')
      else if (!NAMES[d.mechanism]) illegal.set(d.name, 'Unknown SCRAM mechanism')
    }
    for (const u of req.upsertions) {
      if (u.name === '') illegal.set(u.name, 'Username must not be empty')
      else if (!NAMES[u.mechanism]) illegal.set(u.name, 'Unknown SCRAM mechanism')
      else if (u.iterations < MIN_ITERATIONS) illegal.set(u.name, 'Too few iterations')
      else if (u.iterations > MAX_ITERATIONS) illegal.set(u.name, 'Too many iterations')
    }
    for (const [user, msg] of illegal) results.push({user, errorCode: msg === 'Unknown SCRAM mechanism' ? ErrorCode.UNSUPPORTED_SASL_MECHANISM : ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: msg})
    const pairs = [...req.upsertions, ...req.deletions].filter((x: {name: string}) => !illegal.has(x.name)).map((x: {name: string; mechanism: number}) => `${x.name}\u0000${x.mechanism}`)
    const dupUsers = new Set(pairs.filter((p, i) => pairs.indexOf(p) !== i).map(p => p.split('\u0000')[0]))
    for (const user of dupUsers) results.push({user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'A user credential cannot be altered twice in the same request'})
    const users = [...new Set(pairs.map(p => p.split('\u0000')[0]))].filter(u => !dupUsers.has(u))
    const zk = ctx.broker.cluster.zkClient
    for (const user of users) {
      const path = `users/${sanitize(user)}`
      const current = (await zk.getJson<{config?: Record<string, string>}>(`/config/${path}`))?.value.config ?? {}
      const deletions = req.deletions.filter((d: {name: string}) => d.name === user)
      if (deletions.some((d: {mechanism: number}) => current[NAMES[d.mechanism]] === undefined)) {
        results.push({user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to delete a user credential that does not exist'})
        continue
      }
      try {
        await entities.change(path, cfg => {
          for (const d of deletions) delete cfg[NAMES[d.mechanism]]
          for (const u of req.upsertions.filter((x: {name: string}) => x.name === user)) {
            cfg[NAMES[u.mechanism]] = credentialToString(credentialFromSaltedPassword(NAMES[u.mechanism], Buffer.from(u.salt), Buffer.from(u.saltedPassword), u.iterations))
          }
          return cfg
        })
        results.push({user, errorCode: 0, errorMessage: null})
      } catch (error) {
        ctx.broker.logger.info(`Error encountered while altering user SCRAM credentials: ${(error as Error).message}`)
        results.push({user, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (error as Error).message})
      }
    }
    return {throttleTimeMs: 0, results}
  },
})
