// DeleteAcls (31): removes the ACL bindings matching each filter (as Kafka's AclAuthorizer
// does: cached patterns plus the one a precise filter names); SECURITY_DISABLED without an
// authorizer.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {PatternType} from '../../security/acl.js'

export const deleteAcls = defineHandler(Apis.DeleteAcls, {
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, req, version) {
    const authorizer = ctx.broker.security.authorizer
    if (!authorizer) return {throttleTimeMs: 0, filterResults: req.filters.map(() => ({errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.', matchingAcls: []}))}
    const results = await authorizer.deleteAcls(req.filters.map((f: any) => ({
      resourceType: f.resourceTypeFilter, name: f.resourceNameFilter,
      patternType: version === 0 && f.patternTypeFilter === PatternType.ANY ? PatternType.LITERAL : f.patternTypeFilter,
      principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permissionType: f.permissionType,
    })))
    return {
      throttleTimeMs: 0,
      filterResults: results.map(list => ({
        errorCode: 0,
        errorMessage: null,
        matchingAcls: list.map(({binding: b, error}) => ({
          errorCode: error ? ErrorCode.UNKNOWN_SERVER_ERROR : 0, errorMessage: error ? error.message : null,
          resourceType: b.pattern.resourceType, resourceName: b.pattern.name, patternType: b.pattern.patternType,
          principal: b.entry.principal, host: b.entry.host, operation: b.entry.operation, permissionType: b.entry.permissionType,
        })),
      })),
    }
  },
})
