// Bootstrap lists as the Java client reads them (the parser lives with the network layer).
export {parseBootstrapServers as parseBootstrap} from './network.js'
