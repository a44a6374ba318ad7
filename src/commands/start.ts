// kafkit start: the embedded default, one command for ZooKeeper and one broker with the
// shipped configs (config/zookeeper.properties, config/server.properties), both in this
// process. Ctrl-C / SIGTERM / kafka-server-stop stops the broker, then ZooKeeper.
import {Command, Flags} from '@oclif/core'
import {join, dirname} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {existsSync} from 'node:fs'
import {loadServerConfig} from '../core/config/server-config.js'
import {KafkaBroker} from '../core/broker/broker.js'
import {onShutdownSignals, registerServer} from '../core/util/runfile.js'
import {Logger} from '../core/util/log.js'

// dist/src/commands -> the package root
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

interface ZooKeeperHandle {
  stop?(): Promise<void>
  close?(): Promise<void>
}

export default class Start extends Command {
  static summary = 'Start ZooKeeper and a Kafka broker in one process (the embedded default).'
  static description = 'Starts kafkit\'s ZooKeeper server from a zookeeper.properties file, then a Kafka broker from a server.properties file, both in this process. Defaults to the configs shipped in the package\'s config/ directory.'
  static examples = ['<%= config.bin %> start', '<%= config.bin %> start --server-config my-server.properties']
  static flags = {
    'zookeeper-config': Flags.string({description: 'path to zookeeper.properties', default: join(packageRoot, 'config', 'zookeeper.properties')}),
    'server-config': Flags.string({description: 'path to server.properties', default: join(packageRoot, 'config', 'server.properties')}),
    override: Flags.string({multiple: true, multipleNonGreedy: true, description: 'a broker property that overrides the file: key=value (repeatable)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Start)
    const fail = (msg: string): never => {
      process.stderr.write(`Error: ${msg}\n`)
      process.exit(1)
    }
    const zkModule = join(packageRoot, 'dist', 'src', 'core', 'zookeeper', 'index.js')
    if (!existsSync(zkModule)) fail('kafkit\'s ZooKeeper server is not part of this build (src/core/zookeeper/index.ts is missing); start zookeeper-server-start separately and use kafka-server-start')
    let zkStart: ((file: string) => Promise<ZooKeeperHandle>) | undefined
    try {
      const mod = await import(pathToFileURL(zkModule).href)
      zkStart = mod.startZooKeeperServer
    } catch (error) {
      fail(`cannot load kafkit's ZooKeeper server: ${(error as Error).message}`)
    }
    if (typeof zkStart !== 'function') return fail('kafkit\'s ZooKeeper server does not export startZooKeeperServer(configFile)')
    let broker: KafkaBroker
    try {
      broker = new KafkaBroker(loadServerConfig(flags['server-config'], flags.override ?? []))
    } catch (error) {
      return fail((error as Error).message)
    }
    const log = new Logger('kafkit.Start')
    let zk: ZooKeeperHandle
    try {
      zk = await zkStart(flags['zookeeper-config'])
    } catch (error) {
      return fail((error as Error).message)
    }
    const stopZk = async () => {
      try {
        if (zk.stop) await zk.stop()
        else if (zk.close) await zk.close()
      } catch (error) {
        log.error(`Error stopping ZooKeeper: ${(error as Error).message}`)
      }
    }
    let registration: {close(): Promise<void>} | null = null
    let stopping = false
    const shutdown = async () => {
      if (stopping) return
      stopping = true
      setTimeout(() => process.exit(1), 30000).unref()
      await broker.stop().catch(error => log.error(`Error stopping the broker: ${(error as Error).message}`))
      await stopZk()
      await registration?.close().catch(() => {})
      process.exit(0)
    }
    onShutdownSignals(() => { void shutdown() })
    try {
      await broker.start()
    } catch (error) {
      await stopZk()
      return fail((error as Error).message)
    }
    registration = await registerServer('kafka', `embedded broker ${broker.brokerId}`, () => { void shutdown() })
  }
}
