// ApiVersions (18): the supported versions, derived from the handler registry.
import type {Handler} from '../handler.js'

export function apiVersionsList(byKey: Map<number, Handler>): {apiKey: number; minVersion: number; maxVersion: number}[] {
  return [...byKey.values()].sort((a, b) => a.apiKey - b.apiKey).map(h => ({apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion}))
}

export const apiVersions: Handler = {
  apiKey: 18,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx) {
    return {errorCode: 0, apiKeys: apiVersionsList(ctx.broker.router.byKey), throttleTimeMs: 0, finalizedFeaturesEpoch: -1, supportedFeatures: [], finalizedFeatures: []}
  },
}
