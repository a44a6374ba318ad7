// ClusterManager against kafkit's own ZooKeeper server (in-process, on a free port).
import {join} from 'node:path'
import {clusterTests} from './cluster-suite.js'
import {startZooKeeperServer, defaultZkConfig} from '../../src/core/zookeeper/index.js'
import {freePort, tempDir, removeDir} from '../helpers/util.js'

clusterTests({
  name: 'kafkit ZooKeeper',
  async start() {
    const dir = tempDir('kafkit-zk-')
    const port = await freePort()
    const config = () => defaultZkConfig({dataDir: join(dir, 'data'), clientPort: port, clientPortAddress: '127.0.0.1', tickTime: 500, maxSessionTimeout: 60000, maxClientCnxns: 0, forceSync: false, fourLetterWords: '*'})
    let zk = await startZooKeeperServer(config())
    return {
      connect: `127.0.0.1:${port}`,
      async restart() {
        await zk.stop()
        zk = await startZooKeeperServer(config())
      },
      async stop() {
        await zk.stop()
        removeDir(dir)
      },
    }
  },
})
