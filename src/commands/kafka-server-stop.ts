// kafka-server-stop: stops every kafkit broker started on this machine by this user,
// gracefully, without ps or wmic (see src/core/util/runfile.ts).
import {Command} from '@oclif/core'
import {stopServers} from '../core/util/runfile.js'

export default class KafkaServerStop extends Command {
  static summary = 'Stop the Kafka brokers running on this machine.'
  static description = 'Asks every kafkit broker started by this user on this machine to shut down gracefully and waits for them to exit. Prints "No kafka server to stop" and exits 1 when there is none.'
  static examples = ['<%= config.bin %>']

  async run(): Promise<void> {
    await this.parse(KafkaServerStop)
    const n = await stopServers('kafka')
    if (n === 0) {
      process.stdout.write('No kafka server to stop\n')
      process.exit(1)
    }
  }
}
