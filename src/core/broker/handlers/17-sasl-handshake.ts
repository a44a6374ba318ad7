// SaslHandshake (17) reaching the request handlers: on a PLAINTEXT or SSL listener (SASL
// listeners take it in their SASL session, security/authenticator.ts), Kafka answers
// ILLEGAL_SASL_STATE.
import {ErrorCode} from '../../protocol/errors.js'
import type {Handler} from '../handler.js'

export const saslHandshake: Handler = {
  apiKey: 17,
  minVersion: 0,
  maxVersion: 1,
  handle() {
    return {errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: []}
  },
}
