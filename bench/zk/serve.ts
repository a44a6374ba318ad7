// Starts kafkit's ZooKeeper server straight from core (no CLI framework): the benchmark
// uses it to separate the server's own start-up time from the command-line layer's.
import {startZooKeeperServer} from '../../src/core/zookeeper/index.js'
import {setLogSink} from '../../src/core/util/log.js'

setLogSink(() => {})
const file = process.argv[2]
if (!file) {
  console.error('usage: serve <zookeeper.properties>')
  process.exit(1)
}
const zk = await startZooKeeperServer(file).catch((e: Error) => { console.error(`Error: ${e.message}`); process.exit(1) })
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { void zk.stop().then(() => process.exit(0)) })
