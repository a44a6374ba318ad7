// Broker connections shared by the tools' admin clients (Admin for kafka-topics, GroupAdmin for
// kafka-consumer-groups): one per broker address, ApiVersions negotiated once, closed ones
// dropped so the next call reconnects.
import {ConnectionError, KafkaConnection} from '../protocol/client.js'

export class ConnectionPool {
  private readonly conns = new Map<string, KafkaConnection>()

  constructor(readonly endpoints: {host: string; port: number}[], private readonly clientId: string, private readonly requestTimeoutMs = Number.POSITIVE_INFINITY) {}

  /** The connection to host:port, opened and negotiated within the deadline if needed. */
  async connTo(host: string, port: number, deadline: number): Promise<KafkaConnection> {
    const key = `${host}:${port}`
    const c = this.conns.get(key)
    if (c && !c.closed) return c
    const conn = await KafkaConnection.connect(host, port, {clientId: this.clientId, timeoutMs: Math.max(100, Math.min(this.requestTimeoutMs, deadline - Date.now()))})
    try {
      await conn.negotiate()
    } catch (error) {
      await conn.close()
      throw error
    }
    this.conns.set(key, conn)
    return conn
  }

  /** A connection to any reachable bootstrap broker; a ConnectionError when none answers. */
  async anyBroker(deadline: number): Promise<KafkaConnection> {
    for (const c of this.conns.values()) if (!c.closed) return c
    let last: Error | undefined
    for (const e of this.endpoints) {
      try {
        return await this.connTo(e.host, e.port, deadline)
      } catch (error) {
        last = error as Error
      }
    }
    throw last instanceof ConnectionError ? last : new ConnectionError(last ? last.message : 'no bootstrap server')
  }

  /** Forgets closed connections (after a failure) so they are reopened. */
  prune(): void {
    for (const [k, c] of this.conns) if (c.closed) this.conns.delete(k)
  }

  close(): void {
    for (const c of this.conns.values()) void c.close()
    this.conns.clear()
  }
}
