// A kafkit ZooKeeper server in a child process of its own, so a test can measure the
// server's memory apart from the test's: argv[2] is a zookeeper.properties file; the parent
// gets {port} over IPC once it serves, and each 'mem' message is answered with the
// process's current RSS and its high-water mark (process.resourceUsage().maxRSS, on every OS).
import {startZooKeeperServer} from '../../src/core/zookeeper/index.js'
import {setLogSink} from '../../src/core/util/log.js'

setLogSink(() => {})
const zk = await startZooKeeperServer(process.argv[2]).catch((e: Error) => {
  process.stderr.write(`Error: ${e.message}\n`)
  process.exit(1)
})
process.on('message', (m: unknown) => {
  if (m === 'mem') process.send!({rss: process.memoryUsage.rss(), maxRss: process.resourceUsage().maxRSS * 1024})
  else if (m === 'stop') void zk.stop().then(() => process.exit(0))
})
process.on('disconnect', () => { void zk.stop().then(() => process.exit(0)) })
process.send!({port: zk.port})
