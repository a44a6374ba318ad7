// zookeeper-server-stop: stops every kafkit ZooKeeper server started on this machine by
// this user, gracefully, without ps or wmic (see src/core/util/runfile.ts).
import {Command} from '@oclif/core'
import {stopServers} from '../core/util/runfile.js'

export default class ZooKeeperServerStop extends Command {
  static summary = 'Stop the ZooKeeper servers running on this machine.'
  static description = 'Asks every kafkit ZooKeeper server started by this user on this machine to shut down gracefully and waits for them to exit. Prints "No zookeeper server to stop" and exits 1 when there is none.'
  static examples = ['<%= config.bin %>']

  async run(): Promise<void> {
    await this.parse(ZooKeeperServerStop)
    const n = await stopServers('zookeeper')
    if (n === 0) {
      process.stdout.write('No zookeeper server to stop\n')
      process.exit(1)
    }
  }
}
