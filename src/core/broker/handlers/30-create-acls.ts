// CreateAcls (30): adds ACL bindings to ZooKeeper through the authorizer (Kafka's layout and
// change notifications); SECURITY_DISABLED without an authorizer.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {PatternType} from '../../security/acl.js'

export const createAcls = defineHandler(Apis.CreateAcls, {
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, req, version) {
    const authorizer = ctx.broker.security.authorizer
    if (!authorizer) return {throttleTimeMs: 0, results: req.creations.map(() => ({errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.'}))}
    const results = await authorizer.createAcls(req.creations.map((c: any) => ({
      pattern: {resourceType: c.resourceType, name: c.resourceName, patternType: version === 0 ? PatternType.LITERAL : c.resourcePatternType},
      entry: {principal: c.principal, host: c.host, operation: c.operation, permissionType: c.permissionType},
    })))
    return {throttleTimeMs: 0, results: results.map(e => e === null ? {errorCode: 0, errorMessage: ''} : {errorCode: e.code >= 0 ? e.code : ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: e.message})}
  },
})
