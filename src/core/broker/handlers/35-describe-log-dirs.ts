// DescribeLogDirs (35): for each log dir, the size of each partition stored there and how far
// a follower lags its leader's log end (0 on leaders); disk totals from statfs (v4).
import {statfsSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const describeLogDirs = defineHandler(Apis.DescribeLogDirs, {
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req) {
    const broker = ctx.broker
    const wanted: Map<string, Set<number>> | null = req.topics === null ? null : new Map(req.topics.map((t: any) => [t.topic, new Set<number>(t.partitions)]))
    const dirs = broker.config.logDirs.map(d => resolve(d))
    const byDir = new Map<string, Map<string, object[]>>(dirs.map(d => [d, new Map()]))
    for (const p of broker.replicas.all()) {
      if (wanted && !wanted.get(p.topic)?.has(p.index)) continue
      const dir = resolve(dirname(p.log.dir))
      const topics = byDir.get(dir)
      if (!topics) continue
      let list = topics.get(p.topic)
      if (!list) topics.set(p.topic, list = [])
      const lag = p.isLeader() ? 0 : Math.max(0, p.highWatermark - p.logEndOffset)
      list.push({partitionIndex: p.index, partitionSize: p.log.size, offsetLag: lag, isFutureKey: false})
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      results: [...byDir].map(([logDir, topics]) => {
        let totalBytes = -1
        let usableBytes = -1
        try {
          const s = statfsSync(logDir)
          totalBytes = s.blocks * s.bsize
          usableBytes = s.bavail * s.bsize
        } catch { /* unknown */ }
        return {errorCode: 0, logDir, topics: [...topics].map(([name, partitions]) => ({name, partitions})), totalBytes, usableBytes}
      }),
    }
  },
})
