// The Admin client's ACL calls (DescribeAcls, CreateAcls, DeleteAcls) as Java's KafkaAdminClient
// makes them: any broker, retried on retriable errors; an error code becomes Java's exception
// (SecurityDisabledException when the broker has no authorizer).
import {DescribeAcls, CreateAcls, DeleteAcls} from '../../protocol/messages.js'
import type {AclBinding, AclBindingFilter, ResourcePattern, AccessControlEntry} from '../../security/acl.js'
import type {AdminClient} from '../admin-client.js'
import {apiError} from '../kafka-errors.js'

const filterRequest = (f: AclBindingFilter) => ({
  resourceTypeFilter: f.resourceType, resourceNameFilter: f.name, patternTypeFilter: f.patternType,
  principalFilter: f.principal, hostFilter: f.host, operation: f.operation, permissionType: f.permissionType,
})

/** The ACL bindings matching a filter, in the broker's order. */
export async function describeAcls(client: AdminClient, filter: AclBindingFilter): Promise<AclBinding[]> {
  return client.call('describeAcls', {kind: 'any'}, DescribeAcls, filterRequest(filter), {
    handle: res => {
      if (res.errorCode !== 0) throw apiError(res.errorCode, res.errorMessage)
      return res.resources.flatMap(r => r.acls.map(a => ({
        pattern: {resourceType: r.resourceType, name: r.resourceName, patternType: r.patternType},
        entry: {principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType},
      })))
    },
  })
}

/** Creates bindings; the first failed one is thrown. */
export async function createAcls(client: AdminClient, bindings: AclBinding[]): Promise<void> {
  const creations = bindings.map(({pattern: p, entry: e}) => ({
    resourceType: p.resourceType, resourceName: p.name, resourcePatternType: p.patternType,
    principal: e.principal, host: e.host, operation: e.operation, permissionType: e.permissionType,
  }))
  await client.call('createAcls', {kind: 'any'}, CreateAcls, {creations}, {
    handle: res => {
      const failed = res.results.find(r => r.errorCode !== 0)
      if (failed) throw apiError(failed.errorCode, failed.errorMessage)
    },
  })
}

/** Deletes what the filters match; returns the deleted bindings (the first error is thrown). */
export async function deleteAcls(client: AdminClient, filters: AclBindingFilter[]): Promise<AclBinding[]> {
  return client.call('deleteAcls', {kind: 'any'}, DeleteAcls, {filters: filters.map(filterRequest)}, {
    handle: res => {
      const out: AclBinding[] = []
      for (const r of res.filterResults) {
        if (r.errorCode !== 0) throw apiError(r.errorCode, r.errorMessage)
        for (const m of r.matchingAcls) {
          if (m.errorCode !== 0) throw apiError(m.errorCode, m.errorMessage)
          const pattern: ResourcePattern = {resourceType: m.resourceType, name: m.resourceName, patternType: m.patternType}
          const entry: AccessControlEntry = {principal: m.principal, host: m.host, operation: m.operation, permissionType: m.permissionType}
          out.push({pattern, entry})
        }
      }
      return out
    },
  })
}
