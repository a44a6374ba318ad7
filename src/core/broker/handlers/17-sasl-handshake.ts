// SaslHandshake (17): kafkit's listeners are PLAINTEXT only; a client configured for SASL gets
// UNSUPPORTED_SASL_MECHANISM with an empty mechanism list (a clear error instead of a dropped
// connection).
import {ErrorCode} from '../../protocol/errors.js'
import type {Handler} from '../handler.js'

export const saslHandshake: Handler = {
  apiKey: 17,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req) {
    ctx.broker.logger.info(`Client ${ctx.clientId} at ${ctx.conn.remoteHost} asked for SASL mechanism ${req.mechanism}; this listener is PLAINTEXT`)
    return {errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: []}
  },
}
