// The server's own measurements behind mntr and the AdminServer's monitor command, named as
// Apache ZooKeeper's ServerMetrics: counters, and summaries reported as avg/min/max/cnt/sum
// (plus p50/p95/p99/p999 for latencies, taken from a uniform sample of 1024 values, as a
// Dropwizard-style reservoir does).

export class Summary {
  count = 0
  sum = 0
  min = 0
  max = 0

  add(v: number): void {
    if (this.count === 0 || v < this.min) this.min = v
    if (this.count === 0 || v > this.max) this.max = v
    this.count++
    this.sum += v
  }

  /** Apache's AvgMinMaxCounter average: rounded to 4 decimals. */
  get avg(): number {
    return this.count === 0 ? 0 : Math.round((this.sum / this.count) * 10000) / 10000
  }
}

const RESERVOIR = 1024

export class PercentileSummary extends Summary {
  private readonly sample: number[] = []

  override add(v: number): void {
    super.add(v)
    if (this.sample.length < RESERVOIR) this.sample.push(v)
    else {
      const i = Math.floor(Math.random() * this.count)
      if (i < RESERVOIR) this.sample[i] = v
    }
  }

  percentile(p: number): number {
    if (this.sample.length === 0) return 0
    const sorted = [...this.sample].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
  }
}

export class ServerMetrics {
  bytesReceived = 0
  connectionRequests = 0
  connectionsRejected = 0
  responseBytes = 0
  snapCount = 0
  /** Ensemble counters (Apache's names in counters()). */
  diffCount = 0
  proposalCount = 0
  commitCount = 0
  learnerProposalReceived = 0
  learnerCommitReceived = 0
  revalidateCount = 0
  lookingCount = 0
  /** Size of the last, smallest and largest reply (-1 before the first, as Apache reports). */
  lastResponseSize = -1
  minResponseSize = -1
  maxResponseSize = -1
  readonly summaries = new Map<string, Summary>([
    ['fsynctime', new Summary()],
    ['snapshottime', new Summary()],
    ['sync_processor_batch_size', new Summary()],
    ['startup_txns_loaded', new Summary()],
    ['startup_txns_load_time', new Summary()],
    ['startup_snap_load_time', new Summary()],
    ['election_time', new Summary()],
    ['follower_sync_time', new Summary()],
    ['observer_sync_time', new Summary()],
  ])
  readonly readLatency = new PercentileSummary()
  readonly updateLatency = new PercentileSummary()

  summary(name: string): Summary {
    return this.summaries.get(name)!
  }

  response(bytes: number): void {
    this.lastResponseSize = bytes
    if (this.minResponseSize < 0 || bytes < this.minResponseSize) this.minResponseSize = bytes
    if (bytes > this.maxResponseSize) this.maxResponseSize = bytes
    this.responseBytes += bytes
  }

  /** The plain counters mntr reports, by Apache's key. */
  counters(): Map<string, number> {
    return new Map([
      ['bytes_received_count', this.bytesReceived],
      ['connection_request_count', this.connectionRequests],
      ['connection_rejected', this.connectionsRejected],
      ['response_bytes', this.responseBytes],
      ['snap_count', this.snapCount],
      ['diff_count', this.diffCount],
      ['proposal_count', this.proposalCount],
      ['commit_count', this.commitCount],
      ['learner_proposal_received_count', this.learnerProposalReceived],
      ['learner_commit_received_count', this.learnerCommitReceived],
      ['revalidate_count', this.revalidateCount],
      ['looking_count', this.lookingCount],
      ['last_client_response_size', this.lastResponseSize],
      ['min_client_response_size', this.minResponseSize],
      ['max_client_response_size', this.maxResponseSize],
    ])
  }

  reset(): void {
    this.lastResponseSize = this.minResponseSize = this.maxResponseSize = -1
  }
}
