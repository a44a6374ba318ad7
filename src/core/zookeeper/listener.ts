// The client ports (Apache ZooKeeper's ServerCnxnFactory): the plain clientPort and the TLS
// secureClientPort, each accepted socket becoming a Connection (TLS clients' certificates
// checked first), the per-address connection limit (maxClientCnxns), and the answer to a
// connection that opens with a four-letter word (the text, then the socket closes).
import {createServer, type Server, type Socket} from 'node:net'
import {createServer as createTlsServer, type TLSSocket} from 'node:tls'
import {Logger} from '../util/log.js'
import {Connection} from './connection.js'
import {runFourLetterWord} from './fourletter.js'
import {zkServerTlsOptions} from './tls.js'
import type {ZkServer} from './server.js'
import {rebindListener} from './client-port.js'

export class ClientListener {
  private net: Server | null = null
  private secureNet: Server | null = null
  /** Open connections per client address (maxClientCnxns). */
  private readonly perAddress = new Map<string, number>()

  constructor(private readonly zk: ZkServer) {}

  /** Binds the client port, and the TLS client port (secureClientPort) when set; sets zk.port and zk.securePort. */
  async listen(): Promise<void> {
    const zk = this.zk
    const c = zk.config
    const sec = c.security
    if (c.clientPortEnabled !== false) {
      this.net = createServer({noDelay: true}, socket => this.accept(socket))
      zk.port = await this.bind(this.net, c.clientPort, c.clientPortAddressWildcard ? null : c.clientPortAddress, 'clientPort')
      new Logger('org.apache.zookeeper.server.NIOServerCnxnFactory').info(`binding to port ${c.clientPortAddress}/${c.clientPortAddress}:${zk.port}`)
    }
    if (sec.secureClientPort !== null && sec.tls !== null) {
      // A client stuck in its handshake costs one socket for at most 10 s (Netty's default).
      const tls = createTlsServer({...zkServerTlsOptions(sec.tls, c.source), noDelay: true, handshakeTimeout: 10000})
      tls.on('secureConnection', (socket: TLSSocket) => this.accept(socket, socket))
      tls.on('tlsClientError', (e, socket) => {
        const from = socket.remoteAddress ? `${socket.remoteAddress.replace(/^::ffff:/, '')}:${socket.remotePort}` : 'a client that has gone'
        zk.log.error(`Unsuccessful handshake with ${from}: ${e.message.split('\n')[0]}`)
        socket.destroy()
      })
      this.secureNet = tls
      zk.securePort = await this.bind(tls, sec.secureClientPort, sec.secureClientPortAddress ?? (c.clientPortAddressWildcard ? null : c.clientPortAddress), 'secureClientPort')
      new Logger('org.apache.zookeeper.server.NettyServerCnxnFactory').info(`binding to port ${sec.secureClientPortAddress ?? c.clientPortAddress}:${zk.securePort} (secure)`)
      if (c.clientPortEnabled === false) zk.port = zk.securePort
    }
  }

  private async bind(server: Server, port: number, address: string | null, key: string): Promise<number> {
    const c = this.zk.config
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: NodeJS.ErrnoException) => {
        reject(new Error(e.code === 'EADDRINUSE' ? `Port ${port} on ${address ?? c.clientPortAddress} is already in use (${key} in ${c.source})` : `Cannot listen on ${address ?? c.clientPortAddress}:${port}: ${e.message}`))
      }
      server.once('error', onErr)
      const done = () => {
        server.off('error', onErr)
        resolve()
      }
      // Without an address: every address, IPv6 and IPv4 (Node picks :: when it can),
      // so clients resolving localhost to ::1 connect at once.
      if (address === null) server.listen(port, done)
      else server.listen(port, address, done)
    })
    server.on('error', e => this.zk.log.error(`Server socket error: ${e.message}`))
    return (server.address() as {port: number}).port
  }

  /** A reconfig moved the plain client port (client-port.ts); sets zk.port when bound. */
  async rebind(port: number, address: string | null): Promise<void> {
    this.net = await rebindListener(this.net, socket => this.accept(socket), port, address)
    if (this.net !== null) this.zk.port = (this.net.address() as {port: number}).port
  }

  /** Stops accepting connections; resolves once both ports are closed. */
  close(): Promise<void> {
    return Promise.all([this.net, this.secureNet].map(n => n ? new Promise<void>(r => n.close(() => r())) : undefined)).then(() => undefined)
  }

  private accept(socket: Socket, tls?: TLSSocket): void {
    const zk = this.zk
    if (zk.stopping) { socket.destroy(); return }
    const conn = new Connection(zk, socket)
    if (tls && !zk.authn.tlsConnected(conn, tls)) {
      socket.destroy()
      return
    }
    zk.metrics.connectionRequests++
    const max = zk.config.maxClientCnxns
    const n = (this.perAddress.get(conn.remote) ?? 0) + 1
    if (max > 0 && n > max) {
      zk.metrics.connectionsRejected++
      zk.log.warn(`Too many connections from /${conn.remote} - max is ${max}`)
      socket.destroy()
      return
    }
    this.perAddress.set(conn.remote, n)
    zk.connections.add(conn)
    socket.on('data', d => conn.onData(d))
    socket.on('error', () => conn.destroy())
    socket.on('close', () => conn.destroy())
  }

  /** A connection from this address has closed. */
  forget(remote: string): void {
    const n = (this.perAddress.get(remote) ?? 1) - 1
    if (n <= 0) this.perAddress.delete(remote)
    else this.perAddress.set(remote, n)
  }

  /** A connection opened with a four-letter word: it gets the text and is closed. */
  fourLetter(conn: Connection, word: string): void {
    const zk = this.zk
    const allowed = zk.config.fourLetterWords === '*' || zk.config.fourLetterWords.has(word)
    const text = runFourLetterWord(zk, word, allowed)
    conn.closed = true
    zk.connections.delete(conn)
    this.forget(conn.remote)
    conn.socket.end(text)
  }
}
