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
    const zk = await startZooKeeperServer(defaultZkConfig({dataDir: join(dir, 'data'), clientPort: port, clientPortAddress: '127.0.0.1', tickTime: 500, maxSessionTimeout: 60000, maxClientCnxns: 0, forceSync: false, fourLetterWords: '*'}))
    return {
      connect: `127.0.0.1:${zk.port}`,
      async stop() {
        await zk.stop()
        removeDir(dir)
      },
    }
  },
})
