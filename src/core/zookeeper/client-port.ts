// A reconfig that gives this server another client address (its server.N line's
// ;clientAddress:clientPort): the client port moves live, as Apache's
// NIOServerCnxnFactory.reconfigure does it: the old listener closes, the new one binds;
// connections already open stay. When the new port cannot be bound the error is logged and
// the server listens nowhere until it restarts (as Apache).
import {createServer, type Server, type Socket} from 'node:net'
import {Logger} from '../util/log.js'

const log = new Logger('org.apache.zookeeper.server.NIOServerCnxnFactory')

/** The new listener, or null when the new address could not be bound. */
export async function rebindListener(old: Server | null, accept: (socket: Socket) => void, port: number, address: string | null): Promise<Server | null> {
  if (old !== null) await new Promise<void>(resolve => old.close(() => resolve()))
  const next = createServer({noDelay: true}, accept)
  try {
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject)
      const done = () => { next.off('error', reject); resolve() }
      if (address === null) next.listen(port, done)
      else next.listen(port, address, done)
    })
  } catch (e) {
    log.error(`Error reconfiguring client port to ${address ?? '0.0.0.0'}:${port}: ${(e as Error).message}`)
    return null
  }
  next.on('error', e => log.error(`Server socket error: ${e.message}`))
  log.info(`binding to port ${address ?? '0.0.0.0'}/${address ?? '0.0.0.0'}:${port}`)
  return next
}
