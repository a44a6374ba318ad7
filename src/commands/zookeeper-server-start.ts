// zookeeper-server-start: runs kafkit's ZooKeeper-compatible server from a
// zookeeper.properties file until Ctrl-C / SIGTERM / zookeeper-server-stop. Errors
// (missing file, bad value, a misconfigured ensemble, port in use) are one line on stderr
// and exit code 1.
import {Args, Command, Flags} from '@oclif/core'
import {loadZkConfig} from '../core/config/zk-config.js'
import {startZooKeeperServer, type RunningZooKeeper} from '../core/zookeeper/index.js'
import {onShutdownSignals, registerServer} from '../core/util/runfile.js'
import {Logger} from '../core/util/log.js'

export default class ZooKeeperServerStart extends Command {
  static summary = 'Start a ZooKeeper-compatible server.'
  static description = 'Starts kafkit\'s ZooKeeper-wire-compatible server configured by a zookeeper.properties (zoo.cfg) file, as Apache Kafka\'s bin/zookeeper-server-start.sh does: standalone, or a member of an ensemble when the file lists server.N lines (myid in dataDir; kafkit and Apache ZooKeeper 3.8 servers can form one ensemble). Stop it with Ctrl-C, SIGTERM or zookeeper-server-stop.'
  static examples = [
    '<%= config.bin %> config/zookeeper.properties',
    '<%= config.bin %> config/zookeeper.properties --override clientPort=2182',
  ]
  static args = {
    config: Args.string({required: true, description: 'path to zookeeper.properties'}),
  }
  static flags = {
    override: Flags.string({multiple: true, description: 'a property that overrides the file: key=value (repeatable)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(ZooKeeperServerStart)
    const fail = (msg: string): never => {
      process.stderr.write(`Error: ${msg}\n`)
      process.exit(1)
    }
    const overrides = new Map<string, string>()
    for (const o of flags.override ?? []) {
      const i = o.indexOf('=')
      if (i <= 0) fail(`Invalid --override '${o}': expected key=value`)
      overrides.set(o.slice(0, i).trim(), o.slice(i + 1).trim())
    }
    const log = new Logger('org.apache.zookeeper.server.ZooKeeperServerMain')
    let config
    try {
      config = loadZkConfig(args.config, overrides)
    } catch (error) {
      return fail((error as Error).message)
    }
    new Logger('org.apache.zookeeper.server.quorum.QuorumPeerConfig').info(`Reading configuration from: ${args.config}`)
    if (config.servers.length === 1 && !config.ensemble) log.info(`A single ${config.servers[0].split('=')[0]} line: running standalone`)
    if (config.ensemble) log.info(`Ensemble member server.${config.serverId} of ${config.quorumServers.map(q => `server.${q.id}`).join(', ')}`)
    process.on('uncaughtException', error => log.error(`Unexpected error (the server keeps running): ${error?.message ?? error}`))
    process.on('unhandledRejection', error => log.error(`Unexpected error (the server keeps running): ${(error as Error)?.message ?? error}`))
    let running: RunningZooKeeper | null = null
    let stopping: Promise<void> | null = null
    let registration: {close(): Promise<void>} | null = null
    const shutdown = () => {
      stopping ??= (async () => {
        const timer = setTimeout(() => process.exit(1), 30000)
        timer.unref()
        log.info('Shutting down')
        await running?.stop().catch(error => log.error(`Error during shutdown: ${(error as Error).message}`))
        await registration?.close().catch(() => {})
        process.exit(0)
      })()
      return stopping
    }
    onShutdownSignals(() => { void shutdown() })
    log.info('Starting server')
    try {
      running = await startZooKeeperServer(config)
    } catch (error) {
      return fail((error as Error).message)
    }
    registration = await registerServer('zookeeper', `zookeeper ${config.clientPortAddress}:${running.port}`, () => { void shutdown() })
  }
}
