// ACL vocabulary as Kafka defines it: resource types, pattern types, operations and
// permission types (wire codes and the PascalCase names kept in ZooKeeper's JSON), bindings,
// filters and their matching rules (ResourcePatternFilter, AccessControlEntryFilter).

export const ResourceType = {UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7} as const
export const PatternType = {UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4} as const
export const AclOperation = {
  UNKNOWN: 0, ANY: 1, ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8, CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12, CREATE_TOKENS: 13, DESCRIBE_TOKENS: 14,
} as const
export const Permission = {UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3} as const

export const CLUSTER_NAME = 'kafka-cluster'
export const WILDCARD = '*'
export const WILDCARD_PRINCIPAL = 'User:*'

const pascal = (s: string) => s.toLowerCase().split('_').map(w => w[0].toUpperCase() + w.slice(1)).join('')

export const RESOURCE_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ResourceType).map(([k, v]) => [v, pascal(k)]))
export const OPERATION_NAMES: Record<number, string> = Object.fromEntries(Object.entries(AclOperation).map(([k, v]) => [v, pascal(k)]))
export const PERMISSION_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Permission).map(([k, v]) => [v, pascal(k)]))
export const PATTERN_NAMES: Record<number, string> = Object.fromEntries(Object.entries(PatternType).map(([k, v]) => [v, k]))

/** Kafka accepts a name in PascalCase or upper case (SecurityUtils). */
function codeOf(names: Record<number, string>, name: string): number | undefined {
  for (const [code, n] of Object.entries(names)) {
    if (n === name || n.toUpperCase() === name.toUpperCase().replace(/_/g, '')) return Number(code)
  }
  return undefined
}
export const resourceTypeCode = (name: string) => codeOf(RESOURCE_TYPE_NAMES, name)
export const operationCode = (name: string) => codeOf(OPERATION_NAMES, name)
export const permissionCode = (name: string) => codeOf(PERMISSION_NAMES, name)

/** The concrete resource types (those ACLs can be kept for). */
export const CONCRETE_RESOURCE_TYPES = [ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER, ResourceType.TRANSACTIONAL_ID, ResourceType.DELEGATION_TOKEN, ResourceType.USER]

/** Operations that make sense on each resource type (AclEntry.supportedOperations). */
export const SUPPORTED_OPERATIONS: Record<number, number[]> = {
  [ResourceType.TOPIC]: [AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS],
  [ResourceType.GROUP]: [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE],
  [ResourceType.CLUSTER]: [AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER, AclOperation.DESCRIBE],
  [ResourceType.TRANSACTIONAL_ID]: [AclOperation.DESCRIBE, AclOperation.WRITE],
  [ResourceType.DELEGATION_TOKEN]: [AclOperation.DESCRIBE],
  [ResourceType.USER]: [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS],
}

export interface ResourcePattern {
  resourceType: number
  name: string
  patternType: number
}

export interface AccessControlEntry {
  principal: string
  host: string
  operation: number
  permissionType: number
}

export interface AclBinding {
  pattern: ResourcePattern
  entry: AccessControlEntry
}

/** A filter: null names/principals/hosts match anything; ANY codes match anything. */
export interface AclBindingFilter {
  resourceType: number
  name: string | null
  patternType: number
  principal: string | null
  host: string | null
  operation: number
  permissionType: number
}

export function patternKey(p: ResourcePattern): string {
  return `${p.resourceType}\u0000${p.patternType}\u0000${p.name}`
}

export function entryKey(e: AccessControlEntry): string {
  return `${e.principal}\u0000${e.host}\u0000${e.operation}\u0000${e.permissionType}`
}

/** Kafka's ResourcePatternFilter.matches. */
export function patternMatches(f: AclBindingFilter, p: ResourcePattern): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== p.resourceType) return false
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== p.patternType) return false
  if (f.name === null) return true
  if (f.patternType === PatternType.ANY || f.patternType === p.patternType) return f.name === p.name
  if (p.patternType === PatternType.LITERAL) return f.name === p.name || p.name === WILDCARD
  if (p.patternType === PatternType.PREFIXED) return f.name.startsWith(p.name)
  return false
}

/** Kafka's AccessControlEntryFilter.matches. */
export function entryMatches(f: AclBindingFilter, e: AccessControlEntry): boolean {
  if (f.principal !== null && f.principal !== e.principal) return false
  if (f.host !== null && f.host !== e.host) return false
  if (f.operation !== AclOperation.ANY && f.operation !== e.operation) return false
  return f.permissionType === Permission.ANY || f.permissionType === e.permissionType
}

/** Whether a filter names exactly one pattern (a direct ZooKeeper read finds it). */
export function matchesAtMostOne(f: AclBindingFilter): boolean {
  return f.resourceType !== ResourceType.ANY && f.name !== null && (f.patternType === PatternType.LITERAL || f.patternType === PatternType.PREFIXED)
}

/** "Type:name" principals (SecurityUtils.parseKafkaPrincipal). */
export function validPrincipal(p: string): boolean {
  const i = p.indexOf(':')
  return i > 0 && i < p.length - 1
}

/** The string Kafka's AclBinding/ResourcePattern toString gives (for log lines). */
export function describePattern(p: ResourcePattern): string {
  return `ResourcePattern(resourceType=${Object.keys(ResourceType).find(k => (ResourceType as Record<string, number>)[k] === p.resourceType)}, name=${p.name}, patternType=${PATTERN_NAMES[p.patternType]})`
}
