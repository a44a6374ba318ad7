// A small promise-based Kafka connection for kafkit's own tools and tests: one socket,
// correlation ids, pipelined requests, header versions per API, ApiVersions negotiation.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { Reader, Writer, ProtocolError } from './io.js';
import { Apis, type ApiSpec, type DeepPartial, type ApiVersionsResponse } from './messages.js';
import { encodeRequestHeader, requestHeaderVersion, responseHeaderVersion, decodeResponseHeader } from './header.js';

export interface ConnectOptions {
  clientId?: string | null;
  /** Per-request timeout (and connect timeout), ms. Default 30000. */
  timeoutMs?: number;
  clientSoftwareName?: string;
  clientSoftwareVersion?: string;
  /** Connect with TLS (SSL and SASL_SSL listeners): node's tls.connect options. */
  tls?: TlsConnectionOptions;
}

/** The connection failed, closed, or a request timed out. One-line message. */
export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/** The TCP connection was made but the TLS handshake failed (untrusted or expired certificate, protocol mismatch). */
export class TlsHandshakeError extends ConnectionError {
  constructor(message: string, readonly reason: string) {
    super(message);
    this.name = 'TlsHandshakeError';
  }
}

/** A request got no answer within its timeout (request.timeout.ms). */
export class RequestTimeoutError extends ConnectionError {
  constructor(message: string) {
    super(message);
    this.name = 'RequestTimeoutError';
  }
}

interface Pending {
  api: ApiSpec<any, any>;
  version: number;
  headerVersion: number;
  resolve: (v: any) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const UNSUPPORTED_VERSION = 35;

/** Parses "host:port,host2:port2" ("[v6addr]:port" too); throws a one-line error. */
export function parseBootstrap(servers: string): { host: string; port: number }[] {
  const out: { host: string; port: number }[] = [];
  for (const raw of servers.split(',')) {
    const s = raw.trim();
    if (s === '') continue;
    const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) throw new ConnectionError(`invalid bootstrap server '${s}': expected host:port`);
    out.push({ host: m[1] ?? m[2], port });
  }
  if (out.length === 0) throw new ConnectionError('no bootstrap server given');
  return out;
}

export class KafkaConnection {
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closedError: ConnectionError | null = null;
  private closeListeners: ((e: ConnectionError) => void)[] = [];
  /** Versions agreed by negotiate(): api key -> version. */
  readonly versions = new Map<number, number>();
  /** The broker's ranges from the last ApiVersions: api key -> [min, max]. */
  readonly brokerVersions = new Map<number, [number, number]>();
  readonly clientId: string | null;
  readonly timeoutMs: number;

  private constructor(
    private sock: Socket,
    readonly host: string,
    readonly port: number,
    private opts: ConnectOptions,
  ) {
    this.clientId = opts.clientId === undefined ? 'kafkit' : opts.clientId;
    this.timeoutMs = opts.timeoutMs ?? 30000;
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const message = `connection to ${this.where} failed: ${e.message}`;
      // A TLS alert after the handshake (TLS 1.3 servers check the client certificate then).
      this.fail(opts.tls && /^ERR_SSL_/.test(e.code ?? '') ? new TlsHandshakeError(message, e.message) : new ConnectionError(message));
    });
    sock.on('close', () => this.fail(new ConnectionError(`connection to ${this.where} closed`)));
  }

  get where(): string {
    return `${this.host}:${this.port}`;
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The correlation id the next request will carry (for log lines). */
  get nextCorrelationId(): number {
    return this.nextId;
  }

  /** Registers a listener for the connection's end (closed, failed, or closed by us). */
  onClose(fn: (e: ConnectionError) => void): void {
    if (this.closedError) fn(this.closedError);
    else this.closeListeners.push(fn);
  }

  static connect(host: string, port: number, opts: ConnectOptions = {}): Promise<KafkaConnection> {
    const timeoutMs = opts.timeoutMs ?? 30000;
    return new Promise((resolve, reject) => {
      const sock: Socket = opts.tls ? tlsConnect({ ...opts.tls, host, port }) : netConnect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new ConnectionError(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      let tcpConnected = false;
      if (opts.tls) sock.once('connect', () => { tcpConnected = true; });
      const onError = (e: Error) => {
        clearTimeout(timer);
        const message = `cannot connect to ${host}:${port}: ${e.message}`;
        reject(tcpConnected ? new TlsHandshakeError(message, e.message) : new ConnectionError(message));
      };
      sock.once('error', onError);
      sock.once(opts.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        sock.off('error', onError);
        resolve(new KafkaConnection(sock, host, port, opts));
      });
    });
  }

  /**
   * Connects to the first reachable server of a bootstrap list ("host:port,host2:port",
   * IPv6 as "[::1]:9092") and runs negotiate() on it.
   */
  static async bootstrap(servers: string, opts: ConnectOptions = {}): Promise<KafkaConnection> {
    const list = parseBootstrap(servers);
    const errors: string[] = [];
    for (const { host, port } of list) {
      let c: KafkaConnection | undefined;
      try {
        c = await KafkaConnection.connect(host, port, opts);
        await c.negotiate();
        return c;
      } catch (e) {
        await c?.close();
        errors.push((e as Error).message);
      }
    }
    throw new ConnectionError(`no broker of ${servers} is reachable (${errors.join('; ')})`);
  }

  /**
   * Sends one request at the given version and resolves with the decoded response.
   * Produce with acks=0 resolves with undefined once written (Kafka sends no response).
   */
  send<Req, Res>(api: ApiSpec<Req, Res>, version: number, request: DeepPartial<Req>, timeoutMs = this.timeoutMs): Promise<Res> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (version < api.minVersion || version > api.maxVersion) {
      return Promise.reject(new ProtocolError(`${api.name} v${version} is outside the versions kafkit knows (${api.minVersion}-${api.maxVersion})`));
    }
    const id = this.nextId;
    this.nextId = (id + 1) & 0x7fffffff;
    const w = new Writer();
    const size = w.markInt32();
    encodeRequestHeader(w, api.apiKey, version, id, this.clientId, requestHeaderVersion(api.apiKey, version));
    api.encodeRequest(w, version, request);
    w.patchInt32(size, w.length - 4);
    const bufs = w.toBuffers();
    const noResponse = api.apiKey === Apis.Produce.apiKey && (request as { acks?: number }).acks === 0;
    return new Promise<Res>((resolve, reject) => {
      if (!noResponse) {
        const timer = setTimeout(() => {
          if (this.pending.delete(id)) {
            reject(new RequestTimeoutError(`${api.name} v${version} request to ${this.where} timed out after ${timeoutMs} ms`));
          }
        }, timeoutMs);
        this.pending.set(id, { api, version, headerVersion: responseHeaderVersion(api.apiKey, version), resolve, reject, timer });
      }
      const s = this.sock;
      s.cork();
      for (let i = 0; i < bufs.length - 1; i++) s.write(bufs[i]);
      s.write(bufs[bufs.length - 1], noResponse ? () => resolve(undefined as Res) : undefined);
      s.uncork();
    });
  }

  /**
   * Runs ApiVersions (highest version first; on UNSUPPORTED_VERSION retries at the
   * broker's highest) and picks min(kafkit's max, broker's max) for every API both know.
   */
  async negotiate(): Promise<Map<number, number>> {
    let v = Apis.ApiVersions.maxVersion;
    let resp: ApiVersionsResponse;
    for (let attempt = 0; ; attempt++) {
      resp = await this.send(Apis.ApiVersions, v, {
        clientSoftwareName: this.opts.clientSoftwareName ?? 'kafkit',
        clientSoftwareVersion: this.opts.clientSoftwareVersion ?? '0.1.0',
      });
      if (resp.errorCode !== UNSUPPORTED_VERSION || attempt > 0) break;
      const theirs = resp.apiKeys.find((k) => k.apiKey === Apis.ApiVersions.apiKey);
      v = theirs ? Math.min(theirs.maxVersion, Apis.ApiVersions.maxVersion) : 0;
    }
    if (resp.errorCode !== 0) throw new ConnectionError(`ApiVersions to ${this.where} failed with error code ${resp.errorCode}`);
    this.brokerVersions.clear();
    this.versions.clear();
    const byKey = new Map<number, ApiSpec<any, any>>();
    for (const a of Object.values(Apis)) byKey.set(a.apiKey, a);
    for (const k of resp.apiKeys) {
      this.brokerVersions.set(k.apiKey, [k.minVersion, k.maxVersion]);
      const ours = byKey.get(k.apiKey);
      if (!ours) continue;
      const hi = Math.min(ours.maxVersion, k.maxVersion);
      if (hi >= Math.max(ours.minVersion, k.minVersion)) this.versions.set(k.apiKey, hi);
    }
    return this.versions;
  }

  /** The negotiated version for api; throws when the broker does not support it. */
  versionOf(api: ApiSpec<any, any>): number {
    const v = this.versions.get(api.apiKey);
    if (v === undefined) {
      throw new ConnectionError(
        this.brokerVersions.size === 0 ? `negotiate() with ${this.where} first` : `the broker at ${this.where} does not support ${api.name}`,
      );
    }
    return v;
  }

  /** Sends at the negotiated version. */
  request<Req, Res>(api: ApiSpec<Req, Res>, request: DeepPartial<Req>, timeoutMs?: number): Promise<Res> {
    let v: number;
    try {
      v = this.versionOf(api);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.send(api, v, request, timeoutMs);
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.sock.destroyed) return resolve();
      this.sock.once('close', () => resolve());
      this.sock.destroy();
    }).then(() => this.fail(new ConnectionError(`connection to ${this.where} closed`)));
  }

  private fail(e: ConnectionError): void {
    const first = !this.closedError;
    if (!this.closedError) this.closedError = e;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(e);
    }
    if (!this.sock.destroyed) this.sock.destroy();
    if (first) {
      const ls = this.closeListeners;
      this.closeListeners = [];
      for (const fn of ls) fn(e);
    }
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    while (this.buffered >= 4) {
      const head = this.chunks[0].length >= 4 ? this.chunks[0] : this.take(4, false);
      const size = head.readInt32BE(0);
      if (size < 4) {
        this.fail(new ConnectionError(`invalid response size ${size} from ${this.where}`));
        return;
      }
      if (this.buffered < 4 + size) return;
      const frame = this.take(4 + size, true).subarray(4);
      this.onFrame(frame);
    }
  }

  /** Returns the first n buffered bytes (consuming them when consume). */
  private take(n: number, consume: boolean): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (consume) {
        if (first.length === n) this.chunks.shift();
        else this.chunks[0] = first.subarray(n);
      }
    } else {
      out = Buffer.allocUnsafe(n);
      let copied = 0;
      let i = 0;
      while (copied < n) {
        const c = this.chunks[i];
        const k = Math.min(c.length, n - copied);
        c.copy(out, copied, 0, k);
        copied += k;
        if (consume && k === c.length) {
          this.chunks.shift();
        } else if (consume) {
          this.chunks[i] = c.subarray(k);
        } else i++;
      }
    }
    if (consume) this.buffered -= n;
    return out;
  }

  private onFrame(frame: Buffer): void {
    const r = new Reader(frame);
    let id: number;
    try {
      id = r.int32();
    } catch {
      return this.fail(new ConnectionError(`truncated response from ${this.where}`));
    }
    const p = this.pending.get(id);
    if (!p) return; // a late answer to a request that timed out
    this.pending.delete(id);
    clearTimeout(p.timer);
    try {
      r.offset = 0;
      decodeResponseHeader(r, p.headerVersion);
      let version = p.version;
      // a broker answers an ApiVersions version it does not support at v0 (error 35)
      if (p.api.apiKey === Apis.ApiVersions.apiKey && r.remaining() >= 2 && frame.readInt16BE(r.offset) === UNSUPPORTED_VERSION) version = 0;
      const resp = p.api.decodeResponse(r, version);
      p.resolve(resp);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      p.reject(new ProtocolError(`cannot decode ${p.api.name} v${p.version} response from ${this.where}: ${msg}`));
    }
  }
}
