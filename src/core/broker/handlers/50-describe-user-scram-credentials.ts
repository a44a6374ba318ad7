// DescribeUserScramCredentials (50): the mechanisms and iteration counts of users' SCRAM
// credentials, read from /config/users as Kafka's ZkAdminManager does (never the keys).
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis, type DescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult as UserResult} from '../../protocol/messages.js'
import {credentialFromString} from '../../security/sasl.js'
import {desanitize, sanitize} from '../../security/entity-configs.js'

const MECHANISMS: [string, number][] = [['SCRAM-SHA-256', 1], ['SCRAM-SHA-512', 2]]

function credentialInfos(config: Record<string, string>): {mechanism: number; iterations: number}[] | null {
  const infos = []
  for (const [name, type] of MECHANISMS) {
    if (config[name] !== undefined) infos.push({mechanism: type, iterations: credentialFromString(config[name]).iterations})
  }
  return infos.length > 0 ? infos : null
}

export const describeUserScramCredentials = defineHandler(Apis.DescribeUserScramCredentials, {
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    const zk = ctx.broker.cluster.zkClient
    const read = async (sanitized: string) => (await zk.getJson<{config?: Record<string, string>}>(`/config/users/${sanitized}`))?.value.config ?? {}
    const wanted: string[] | null = req.users === null || req.users.length === 0 ? null : req.users.map((u: {name: string}) => u.name)
    const results: UserResult[] = []
    try {
      if (wanted === null) {
        const users = (await zk.getChildren('/config/users') ?? []).map(u => desanitize(u)).sort()
        for (const user of users) {
          try {
            const infos = credentialInfos(await read(sanitize(user)))
            if (infos) results.push({user, errorCode: 0, errorMessage: null, credentialInfos: infos})
          } catch {
            results.push({user, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'Error processing describe user SCRAM credential configs request', credentialInfos: []})
          }
        }
      } else {
        const seen = new Map<string, number>()
        for (const u of wanted) seen.set(u, (seen.get(u) ?? 0) + 1)
        for (const user of [...new Set(wanted)]) {
          if (user === '') results.push({user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Username must not be empty', credentialInfos: []})
          else if (seen.get(user)! > 1) results.push({user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: []})
          else {
            const infos = credentialInfos(await read(sanitize(user)))
            if (infos) results.push({user, errorCode: 0, errorMessage: null, credentialInfos: infos})
            else results.push({user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: []})
          }
        }
      }
    } catch (error) {
      return {throttleTimeMs: 0, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (error as Error).message, results: []}
    }
    return {throttleTimeMs: 0, errorCode: 0, errorMessage: null, results}
  },
})
