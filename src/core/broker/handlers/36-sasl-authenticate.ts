// SaslAuthenticate (36) reaching the request handlers: outside a SASL exchange (a listener
// without SASL, or after authentication) Kafka answers ILLEGAL_SASL_STATE. The exchange itself
// runs in the connection's SASL session (broker/authenticator.ts).
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const saslAuthenticate = defineHandler(Apis.SaslAuthenticate, {
  minVersion: 0,
  maxVersion: 2,
  handle() {
    return {errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate request received after successful authentication', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0}
  },
})
