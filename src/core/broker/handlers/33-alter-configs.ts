// AlterConfigs (33): replaces a topic's whole set of overrides.
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
    })
    return {throttleTimeMs: 0, responses}
  },
})
