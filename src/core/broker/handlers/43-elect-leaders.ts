// ElectLeaders (43): preferred (0) or unclean (1) leader election, run by the controller
// (clients send it to the controller; another broker answers NOT_CONTROLLER).
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const electLeaders = defineHandler(Apis.ElectLeaders, {
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req, version) {
    const cluster = ctx.broker.cluster
    if (!cluster.isController()) return {throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, replicaElectionResults: []}
    const preferred = version === 0 || req.electionType === 0
    const wanted: {topic: string; partition: number}[] | undefined = req.topicPartitions === null ? undefined : req.topicPartitions.flatMap((t: any) => t.partitions.map((p: number) => ({topic: t.topic, partition: p})))
    const results = await cluster.electLeaders(preferred, wanted)
    const byTopic = new Map<string, {partitionId: number; errorCode: number; errorMessage: string | null}[]>()
    for (const r of results) {
      // An election over every partition reports only the partitions that needed one (Kafka's KafkaApis).
      if (wanted === undefined && r.errorCode === ErrorCode.ELECTION_NOT_NEEDED) continue
      let list = byTopic.get(r.topic)
      if (!list) byTopic.set(r.topic, list = [])
      list.push({partitionId: r.partition, errorCode: r.errorCode, errorMessage: r.errorCode === 0 ? null : r.message})
    }
    return {throttleTimeMs: 0, errorCode: 0, replicaElectionResults: [...byTopic].map(([topic, partitionResult]) => ({topic, partitionResult}))}
  },
})
