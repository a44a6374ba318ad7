// The client core's compression seam is the protocol layer's (src/core/protocol/compression.ts).
export {CODECS, type CodecName, codecId, compress, decompress} from '../protocol/compression.js'
