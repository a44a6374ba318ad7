// Partition reassignment (AlterPartitionReassignments / ListPartitionReassignments), served
// by the controller: the plan is written into the topic znode (adding_replicas /
// removing_replicas) and completed once every target replica is in the ISR.
import {ErrorCode} from '../protocol/errors.js'
import {type ElectionResult, type PartitionState, type ReassignmentRequest, type ReplicaPlan, ZkPaths, encodeTopicWithPlan, encodePartitionState} from './znodes.js'
import type {ClusterContext} from './events.js'

export class Reassignments {
  constructor(private readonly ctx: ClusterContext) {}

  /**
   * AlterPartitionReassignments (controller only, as Kafka): the topic znode gets the union
   * of target and current replicas plus adding_replicas/removing_replicas; once every target
   * replica is in the ISR the controller finishes (replicas = target, leader moved into the
   * target if needed, leader epoch bumped) and dropped brokers get 'partitionsRemoved'.
   * replicas null cancels a reassignment in progress.
   */
  async reassign(reqs: ReassignmentRequest[]): Promise<ElectionResult[]> {
    if (!this.ctx.controller.isController()) return reqs.map(r => ({topic: r.topic, partition: r.partition, errorCode: ErrorCode.NOT_CONTROLLER, message: null}))
    const results = new Map<string, ElectionResult>()
    await this.ctx.queue.run('partition reassignment', async () => {
      const live = new Set(this.ctx.cache.brokerMap.keys())
      const plans = new Map<string, Map<number, ReplicaPlan>>()
      for (const req of reqs) {
        const res = (errorCode: number, message: string | null) => {
          results.set(`${req.topic}-${req.partition}`, {topic: req.topic, partition: req.partition, errorCode, message})
          if (errorCode !== ErrorCode.NONE) plans.get(req.topic)?.delete(req.partition) // the last word for a partition wins
        }
        const t = this.ctx.cache.topicMap.get(req.topic)
        const ps = t?.partitions[req.partition]
        // Kafka's ZooKeeper-mode controller checks the replica list first, then the partition (its texts).
        const target = req.replicas
        if (target !== null) {
          if (target.length === 0) { res(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Empty replica list specified in partition reassignment.'); continue }
          if (new Set(target).size !== target.length) { res(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Duplicate replica ids in partition reassignment replica list: Buffer(${target.join(', ')})`); continue }
          if (target.some(r => r < 0)) { res(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Invalid broker id in replica list: Buffer(${target.join(', ')})`); continue }
        }
        const original = ps && ps.zkVersion >= 0 ? ps.replicas.filter(r => !(ps.addingReplicas ?? []).includes(r)) : []
        if (target !== null) {
          // Only the replicas being added must be alive.
          const added = target.filter(r => !original.includes(r))
          if (added.some(r => !live.has(r))) { res(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Replica assignment has brokers that are not alive. Replica list: ArrayBuffer(${added.join(', ')}), live broker list: ${[...live].length > 4 ? 'HashSet' : 'Set'}(${[...live].join(', ')})`); continue }
        }
        if (!t || !ps || ps.zkVersion < 0 || t.markedForDeletion) { res(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.'); continue }
        let plan: ReplicaPlan
        if (target === null) {
          if (!ps.addingReplicas && !ps.removingReplicas) { res(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, null); continue }
          plan = {replicas: original}
        } else {
          const adding = target.filter(r => !original.includes(r))
          const removing = original.filter(r => !target.includes(r))
          plan = adding.length || removing.length
            ? {replicas: [...target, ...original.filter(r => !target.includes(r))], adding: adding.length ? adding : undefined, removing: removing.length ? removing : undefined}
            : {replicas: target}
        }
        const forTopic = plans.get(t.name) ?? new Map<number, ReplicaPlan>()
        forTopic.set(ps.partition, plan)
        plans.set(t.name, forTopic)
        res(ErrorCode.NONE, null)
      }
      for (const [name, plan] of plans) {
        const t = this.ctx.cache.topicMap.get(name)!
        const r = await this.ctx.zkClient.get(ZkPaths.topic(name))
        const ok = !!r && await this.ctx.controller.controllerWrite([{op: 'set', path: ZkPaths.topic(name), data: encodeTopicWithPlan(t, plan), version: r.stat.version}])
        if (!ok) {
          for (const p of plan.keys()) results.set(`${name}-${p}`, {topic: name, partition: p, errorCode: ErrorCode.NOT_CONTROLLER, message: 'The controller changed during the reassignment'})
          continue
        }
        this.ctx.logger.info(`Reassigning ${[...plan].map(([p, x]) => `${name}-${p} -> ${x.replicas.join(',')}${x.adding ? ` (adding ${x.adding.join(',')})` : ''}${x.removing ? ` (removing ${x.removing.join(',')})` : ''}`).join('; ')}`)
        // The leader epoch bump tells every replica (new ones included) that the replica set changed.
        for (const [p, x] of plan) {
          const ps = t.partitions[p]
          const isr = ps.isr.filter(b => x.replicas.includes(b))
          await this.ctx.controller.controllerWrite([{op: 'set', path: ZkPaths.partitionState(name, p), data: encodePartitionState(ps.leader, ps.leaderEpoch + 1, isr.length ? isr : ps.isr, this.ctx.controller.epoch), version: ps.zkVersion}])
        }
        await this.ctx.cache.loadTopic(name, true)
        for (const p of plan.keys()) await this.ctx.cache.loadPartitionState(name, p, true)
      }
    })
    return [...results.values()]
  }

  /** Reassignments in progress (ListPartitionReassignments). */
  list(): {topic: string; partition: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[]}[] {
    const out = []
    for (const t of this.ctx.cache.topicMap.values()) {
      for (const ps of t.partitions) {
        if (ps?.addingReplicas || ps?.removingReplicas) out.push({topic: t.name, partition: ps.partition, replicas: [...ps.replicas], addingReplicas: [...(ps.addingReplicas ?? [])], removingReplicas: [...(ps.removingReplicas ?? [])]})
      }
    }
    return out
  }

  /** Controller: completes reassignments whose target replicas are all in the ISR. */
  async complete(states: PartitionState[]): Promise<void> {
    const live = new Set(this.ctx.cache.brokerMap.keys())
    for (const ps of states) {
      if (!ps || ps.zkVersion < 0 || (!ps.addingReplicas && !ps.removingReplicas)) continue
      const target = ps.replicas.filter(r => !(ps.removingReplicas ?? []).includes(r))
      if (!target.every(r => ps.isr.includes(r))) continue
      const t = this.ctx.cache.topicMap.get(ps.topic)
      const r = await this.ctx.zkClient.get(ZkPaths.topic(ps.topic))
      if (!t || !r) continue
      const leader = target.includes(ps.leader) && live.has(ps.leader) ? ps.leader : target.find(x => live.has(x) && ps.isr.includes(x)) ?? -1
      const isr = ps.isr.filter(x => target.includes(x))
      const ok = await this.ctx.controller.controllerWrite([
        {op: 'set', path: ZkPaths.topic(ps.topic), data: encodeTopicWithPlan(t, new Map([[ps.partition, {replicas: target}]])), version: r.stat.version},
        {op: 'set', path: ZkPaths.partitionState(ps.topic, ps.partition), data: encodePartitionState(leader, ps.leaderEpoch + 1, isr, this.ctx.controller.epoch), version: ps.zkVersion},
      ])
      if (!ok) continue
      this.ctx.logger.info(`Reassignment of ${ps.topic}-${ps.partition} completed: replicas ${target.join(',')}, leader ${leader}, isr ${isr.join(',')}`)
      await this.ctx.cache.loadTopic(ps.topic, true)
      await this.ctx.cache.loadPartitionState(ps.topic, ps.partition, true)
    }
  }
}
