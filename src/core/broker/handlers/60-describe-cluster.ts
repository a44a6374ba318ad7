// DescribeCluster (60): brokers, cluster id and controller.
import {ErrorCode} from '../../protocol/errors.js'
import {AUTHORIZED_OPERATIONS_OMITTED, defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const describeCluster = defineHandler(Apis.DescribeCluster, {
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req, version) {
    const broker = ctx.broker
    if (version >= 1 && req.endpointType !== 1) {
      return {throttleTimeMs: 0, errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE, errorMessage: 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER', endpointType: req.endpointType, clusterId: broker.cluster.clusterId, controllerId: -1, brokers: [], clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED}
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: broker.cluster.clusterId,
      controllerId: broker.cluster.controllerId(),
      brokers: broker.liveBrokers(ctx.conn.listener.name).map(b => ({brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack})),
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    }
  },
})
