// kafkit's programmatic API: `import {startCluster, startBroker, startZooKeeperServer} from 'kafkit'`.
export {startCluster, type Cluster, type ClusterOptions} from './api/start-cluster.js'
export {startBroker, KafkaBroker} from './core/broker/index.js'
export {startZooKeeperServer, defaultZkConfig, loadZkConfig, type RunningZooKeeper, type ZkConfig} from './core/zookeeper/index.js'
