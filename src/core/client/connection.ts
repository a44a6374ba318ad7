// Bootstrap lists as the Java client reads them, and the error the tools' admin client
// retries until its deadline. (Connections themselves: src/core/protocol/client.ts.)

/** A failure worth retrying until the call's deadline (not reachable, not the controller). */
export class RetriableError extends Error {}

/** Splits "host:port,host2:port2" ("[::1]:9092" too) into endpoints; one-line error for bad input. */
export function parseBootstrap(list: string): {host: string; port: number}[] {
  const out: {host: string; port: number}[] = []
  for (const raw of list.split(',')) {
    const s = raw.trim()
    if (!s) continue
    const m = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(s)
    const port = m ? Number(m[3]) : NaN
    if (!m || port < 1 || port > 65535) throw new Error(`Invalid url in bootstrap.servers: ${s}`)
    out.push({host: m[1] ?? m[2], port})
  }
  if (out.length === 0) throw new Error('No resolvable bootstrap urls given in bootstrap.servers')
  return out
}
