// OffsetDelete (47): removes committed offsets of a group (kafka-consumer-groups --delete-offsets).
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const offsetDelete = defineHandler(Apis.OffsetDelete, {
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    const wanted: {topic: string; partition: number}[] = []
    for (const t of req.topics) for (const p of t.partitions) wanted.push({topic: t.name, partition: p.partitionIndex})
    const r = ctx.broker.groups.deleteOffsets(req.groupId, wanted)
    if (r.errorCode !== 0) return {errorCode: r.errorCode, throttleTimeMs: 0, topics: []}
    let i = 0
    return {
      errorCode: 0,
      throttleTimeMs: 0,
      topics: req.topics.map((t: any) => ({name: t.name, partitions: t.partitions.map((p: any) => ({partitionIndex: p.partitionIndex, errorCode: r.codes[i++]}))})),
    }
  },
})
