// Request and response headers. Request header v0: apiKey, apiVersion, correlationId;
// v1 adds clientId (int16-length nullable string, never compact); v2 adds a tagged-field
// section. Response header v0: correlationId; v1 adds a tagged-field section.
import { Reader, Writer, ProtocolError } from './io.js';
import { apisByKey, ApiSpec } from './messages.js';

const API_VERSIONS_KEY = 18;
const CONTROLLED_SHUTDOWN_KEY = 7;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  headerVersion: number;
  /** The API's codec; undefined for an API key kafkit does not know. */
  api: ApiSpec<any, any> | undefined;
  /** False when the key is unknown or the version is outside the API's range. */
  supported: boolean;
}

/** Header version a request of this API version uses (2 when flexible, else 1). */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === CONTROLLED_SHUTDOWN_KEY && apiVersion === 0) return 0;
  const api = apisByKey.get(apiKey);
  if (api && apiVersion >= api.firstFlexibleVersion) return 2;
  return 1;
}

/** Header version of the response (1 when flexible, else 0; ApiVersions is always 0). */
export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === API_VERSIONS_KEY) return 0;
  const api = apisByKey.get(apiKey);
  if (api && apiVersion >= api.firstFlexibleVersion) return 1;
  return 0;
}

/**
 * Reads a request header. For an unknown API key or an unsupported version the fixed part
 * (apiKey, apiVersion, correlationId) is always returned, so the caller can answer with an
 * error; the rest is read on a best-effort basis. Throws ProtocolError when even the fixed
 * part is truncated, or when a supported request's header is malformed.
 */
export function decodeRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const api = apisByKey.get(apiKey);
  const supported = api !== undefined && apiVersion >= api.minVersion && apiVersion <= api.maxVersion;
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  let clientId: string | null = null;
  const start = r.offset;
  try {
    if (headerVersion >= 1) clientId = r.nullableString();
    if (headerVersion >= 2) r.skipTaggedFields();
  } catch (e) {
    if (supported || !(e instanceof ProtocolError)) throw e;
    r.offset = start;
    clientId = null;
  }
  return { apiKey, apiVersion, correlationId, clientId, headerVersion, api, supported };
}

export function encodeRequestHeader(
  w: Writer,
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  headerVersion = requestHeaderVersion(apiKey, apiVersion),
): void {
  w.int16(apiKey).int16(apiVersion).int32(correlationId);
  if (headerVersion >= 1) w.nullableString(clientId);
  if (headerVersion >= 2) w.unsignedVarint(0);
}

export function encodeResponseHeader(w: Writer, correlationId: number, headerVersion: number): void {
  w.int32(correlationId);
  if (headerVersion >= 1) w.unsignedVarint(0);
}

/** Reads a response header; returns the correlation id. */
export function decodeResponseHeader(r: Reader, headerVersion: number): number {
  const correlationId = r.int32();
  if (headerVersion >= 1) r.skipTaggedFields();
  return correlationId;
}
