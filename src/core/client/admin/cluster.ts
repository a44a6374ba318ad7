// kafka-cluster's and kafka-features' admin calls, on AdminClient: the cluster id
// (Admin.describeCluster), broker unregistration, the feature levels of ApiVersions
// (Admin.describeFeatures) and UpdateFeatures (Admin.updateFeatures).
import {ApiVersions, DescribeCluster, UnregisterBroker, UpdateFeatures} from '../../protocol/messages.js'
import {AdminClient} from '../admin-client.js'
import {apiError, KafkaClientError} from '../kafka-errors.js'

/**
 * The cluster id, or null when the cluster has none. controllers: the bootstrap servers are
 * KRaft controllers (--bootstrap-controller): DescribeCluster with endpoint type CONTROLLER,
 * which a ZooKeeper-mode broker refuses with MismatchedEndpointTypeException.
 */
export async function clusterId(admin: AdminClient, controllers = false): Promise<string | null> {
  if (controllers) {
    return admin.call('listNodes', {kind: 'any'}, DescribeCluster, {includeClusterAuthorizedOperations: false, endpointType: 2}, {
      minVersion: 1,
      handle: r => {
        if (r.errorCode !== 0) throw apiError(r.errorCode, r.errorMessage)
        return r.clusterId
      },
    })
  }
  const md = await admin.metadata([], undefined, 'listNodes')
  return md.clusterId
}

/** Unregisters broker id (KRaft only): throws UnsupportedVersionException on ZooKeeper-mode brokers. */
export async function unregisterBroker(admin: AdminClient, id: number): Promise<void> {
  await admin.call('unregisterBroker', {kind: 'any'}, UnregisterBroker, {brokerId: id}, {
    handle: r => { if (r.errorCode !== 0) admin.check(r.errorCode, r.errorMessage) },
  })
}

export interface FeatureMetadata {
  /** name -> [min, max] the node supports. */
  supported: Map<string, [number, number]>
  /** name -> finalized max level. */
  finalized: Map<string, number>
  /** -1 when the node has no finalized features epoch. */
  epoch: number
}

/** Admin.describeFeatures(): the ApiVersions answer of any broker. */
export async function describeFeatures(admin: AdminClient): Promise<FeatureMetadata> {
  return admin.call('describeFeatures', {kind: 'any'}, ApiVersions, {clientSoftwareName: 'kafkit', clientSoftwareVersion: '0.1.0'}, {
    handle: r => {
      if (r.errorCode !== 0) admin.check(r.errorCode)
      return {
        supported: new Map(r.supportedFeatures.map(f => [f.name, [f.minVersion, f.maxVersion]])),
        finalized: new Map(r.finalizedFeatures.map(f => [f.name, f.maxVersionLevel])),
        epoch: r.finalizedFeaturesEpoch,
      }
    },
  })
}

/** Java's FeatureUpdate.UpgradeType codes. */
export const UpgradeType = {UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3} as const

/**
 * Admin.updateFeatures(): one UpdateFeatures request to the controller; the result per feature
 * is null (done) or the Java exception's message.
 */
export async function updateFeatures(admin: AdminClient, updates: Map<string, {level: number; type: number}>, validateOnly: boolean): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>()
  try {
    const res = await admin.call('updateFeatures', {kind: 'controller'}, UpdateFeatures, {
      timeoutMs: admin.defaultApiTimeoutMs,
      validateOnly,
      featureUpdates: [...updates].map(([feature, u]) => ({feature, maxVersionLevel: u.level, allowDowngrade: u.type !== UpgradeType.UPGRADE, upgradeType: u.type})),
    }, {
      handle: r => {
        if (r.errorCode !== 0) admin.check(r.errorCode, r.errorMessage)
        return r
      },
    })
    for (const f of updates.keys()) {
      const r = res.results.find(x => x.feature === f)
      out.set(f, !r ? 'The controller response did not contain a result for feature ' + f : r.errorCode === 0 ? null : apiError(r.errorCode, r.errorMessage).message)
    }
  } catch (error) {
    if (!(error instanceof KafkaClientError)) throw error
    for (const f of updates.keys()) out.set(f, error.message)
  }
  return out
}
