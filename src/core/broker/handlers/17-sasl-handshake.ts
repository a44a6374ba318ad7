// SaslHandshake (17) reaching the request handlers: on a PLAINTEXT or SSL listener (SASL
// listeners take it in their SASL session, broker/authenticator.ts), Kafka answers
// ILLEGAL_SASL_STATE.
import {ErrorCode} from '../../protocol/errors.js'
import {defineHandler} from '../handler.js'
import {Apis} from '../../protocol/messages.js'

export const saslHandshake = defineHandler(Apis.SaslHandshake, {
  minVersion: 0,
  maxVersion: 1,
  handle() {
    return {errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: []}
  },
})
