// AlterConfigs (33): replaces a topic's whole set of overrides, or a broker's (or the cluster
// default's) dynamic configs, as kafka-configs --alter --entity-type brokers sends them.
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'
import {alterTopicResources} from './alter-topic-configs.js'

export const alterConfigs = defineHandler(Apis.AlterConfigs, {
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const responses = await alterTopicResources(ctx.broker, req.resources, !!req.validateOnly, (res, meta) => {
      const set: Record<string, string> = {}
      for (const c of res.configs) if (c.value !== null) set[c.name] = c.value
      return {set, remove: Object.keys(meta.configs).filter(k => set[k] === undefined)}
    }, (res, current) => {
      const set: Record<string, string> = {}
      for (const c of res.configs) if (c.value !== null) set[c.name] = c.value
      return {set, remove: Object.keys(current).filter(k => set[k] === undefined)}
    }, true)
    return {throttleTimeMs: 0, responses}
  },
})
