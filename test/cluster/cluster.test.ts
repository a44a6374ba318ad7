// ClusterManager against Apache ZooKeeper 3.8 (the real peer).
import {clusterTests} from './cluster-suite.js'
import {startApacheZooKeeper} from './zk-helper.js'

clusterTests({name: 'Apache ZooKeeper 3.8', start: () => startApacheZooKeeper()})
