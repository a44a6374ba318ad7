// DescribeAcls (29): the ACLs matching a filter, grouped by resource pattern, from the
// authorizer's cache; SECURITY_DISABLED without an authorizer (as Kafka answers).
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis, type DescribeAclsResponseDescribeAclsResource} from '../../protocol/messages.js'
import {patternKey, PatternType} from '../../security/acl.js'

export const describeAcls = defineHandler(Apis.DescribeAcls, {
  minVersion: 0,
  maxVersion: 3,
  handle(ctx, req, version) {
    const authorizer = ctx.broker.security.authorizer
    if (!authorizer) return {throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured on the broker', resources: []}
    // v0 knows literal patterns only: its ANY means LITERAL.
    const patternType = version === 0 && req.patternTypeFilter === PatternType.ANY ? PatternType.LITERAL : req.patternTypeFilter
    const bindings = authorizer.acls({resourceType: req.resourceTypeFilter, name: req.resourceNameFilter, patternType, principal: req.principalFilter, host: req.hostFilter, operation: req.operation, permissionType: req.permissionType})
    const byPattern = new Map<string, DescribeAclsResponseDescribeAclsResource>()
    for (const b of bindings) {
      const k = patternKey(b.pattern)
      let r = byPattern.get(k)
      if (!r) byPattern.set(k, r = {resourceType: b.pattern.resourceType, resourceName: b.pattern.name, patternType: b.pattern.patternType, acls: []})
      r.acls.push({principal: b.entry.principal, host: b.entry.host, operation: b.entry.operation, permissionType: b.entry.permissionType})
    }
    return {throttleTimeMs: 0, errorCode: 0, errorMessage: '', resources: [...byPattern.values()]}
  },
})
