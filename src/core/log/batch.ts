// The log stores record batches as the protocol defines them; their layout and helpers live
// in the protocol layer (protocol/record-batch.ts). Re-exported here for the log's modules.
export * from '../protocol/record-batch.js'
