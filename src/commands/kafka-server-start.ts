// kafka-server-start: runs a broker from server.properties until Ctrl-C / SIGTERM /
// kafka-server-stop. Errors (missing file, bad value, port in use, ZooKeeper unreachable)
// are one line on stderr and exit code 1.
import {Args, Command, Flags} from '@oclif/core'
import {loadServerConfig} from '../core/config/server-config.js'
import {KafkaBroker} from '../core/broker/broker.js'
import {onShutdownSignals, registerServer} from '../core/util/runfile.js'
import {Logger} from '../core/util/log.js'

export default class KafkaServerStart extends Command {
  static summary = 'Start a Kafka broker.'
  static description = 'Starts a Kafka-wire-compatible broker configured by a server.properties file (as Apache Kafka\'s bin/kafka-server-start.sh does). Stop it with Ctrl-C, SIGTERM or kafka-server-stop.'
  static examples = [
    '<%= config.bin %> config/server.properties',
    '<%= config.bin %> config/server.properties --override broker.id=1 --override listeners=PLAINTEXT://:9093',
  ]
  static args = {
    config: Args.string({required: true, description: 'path to server.properties'}),
  }
  static flags = {
    override: Flags.string({multiple: true, multipleNonGreedy: true, description: 'a property that overrides the file: key=value (repeatable)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(KafkaServerStart)
    const fail = (msg: string): never => {
      process.stderr.write(`Error: ${msg}\n`)
      process.exit(1)
    }
    let broker: KafkaBroker
    try {
      const config = loadServerConfig(args.config, flags.override ?? [])
      broker = new KafkaBroker(config)
    } catch (error) {
      return fail((error as Error).message)
    }
    const log = new Logger('kafka.Kafka$')
    process.on('uncaughtException', error => log.error(`Unexpected error (the broker keeps running): ${error?.message ?? error}`))
    process.on('unhandledRejection', error => log.error(`Unexpected error (the broker keeps running): ${(error as Error)?.message ?? error}`))
    let stopping: Promise<void> | null = null
    let registration: {close(): Promise<void>} | null = null
    const shutdown = () => {
      if (!stopping) {
        stopping = (async () => {
          const timer = setTimeout(() => process.exit(1), 30000)
          timer.unref()
          await broker.stop().catch(error => log.error(`Error during shutdown: ${(error as Error).message}`))
          await registration?.close().catch(() => {})
          process.exit(0)
        })()
      }
      return stopping
    }
    onShutdownSignals(() => { void shutdown() })
    try {
      await broker.start()
    } catch (error) {
      return fail((error as Error).message)
    }
    const ports = broker.boundPorts().map(p => `${p.name}://${p.host}:${p.port}`).join(',')
    registration = await registerServer('kafka', `broker ${broker.brokerId} ${ports}`, () => { void shutdown() })
  }
}
