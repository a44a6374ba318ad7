// ApiVersions (18): the supported versions, derived from the handler registry.
import {defineHandler, type Handler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export function apiVersionsList(byKey: Map<number, Handler>): {apiKey: number; minVersion: number; maxVersion: number}[] {
  return [...byKey.values()].sort((a, b) => a.apiKey - b.apiKey).map(h => ({apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion}))
}

export const apiVersions = defineHandler(Apis.ApiVersions, {
  minVersion: 0,
  maxVersion: 4,
  handle(ctx) {
    return {errorCode: 0, apiKeys: apiVersionsList(ctx.broker.router.byKey), throttleTimeMs: 0, finalizedFeaturesEpoch: -1, supportedFeatures: [], finalizedFeatures: [], zkMigrationReady: false}
  },
})
