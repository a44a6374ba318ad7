// A tiny Kafka-speaking server for protocol tests: it records every request frame a real
// client sends and answers with kafkit's own codecs (ApiVersions built in; a handler for
// the rest). Not a broker: just enough to drive real clients through their first calls.
import { createServer, type Server, type Socket } from 'node:net';
import { Reader, Writer } from '../../src/core/protocol/io.js';
import { Apis, type ApiSpec } from '../../src/core/protocol/messages.js';
import { decodeRequestHeader, encodeResponseHeader, responseHeaderVersion, type RequestHeader } from '../../src/core/protocol/header.js';

export interface Captured {
  header: RequestHeader;
  frame: Buffer; // the request without its size prefix
  body: unknown; // decoded request (undefined when the version is unsupported)
}

/** Returns the response object (or a promise of it); undefined sends nothing. */
export type Handler = (h: RequestHeader, req: any, sock: Socket) => unknown;

export class FakeBroker {
  readonly frames: Captured[] = [];
  private server: Server;
  private sockets = new Set<Socket>();
  port = 0;
  /** Versions advertised in ApiVersions: api key -> [min, max]. */
  versions = new Map<number, [number, number]>();

  constructor(private handler: Handler = () => undefined) {
    this.server = createServer((s) => this.serve(s));
  }

  support(api: ApiSpec<any, any>, max = api.maxVersion, min = api.minVersion): this {
    this.versions.set(api.apiKey, [min, max]);
    return this;
  }

  async listen(): Promise<number> {
    await new Promise<void>((res) => this.server.listen(0, '127.0.0.1', res));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => this.server.close(() => res()));
  }

  private serve(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    let pending = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = pending.subarray(4, 4 + size);
        pending = pending.subarray(4 + size);
        void this.onFrame(sock, Buffer.from(frame));
      }
    });
  }

  private async onFrame(sock: Socket, frame: Buffer): Promise<void> {
    const r = new Reader(frame);
    const h = decodeRequestHeader(r);
    const range = this.versions.get(h.apiKey);
    const ok = h.api !== undefined && range !== undefined && h.apiVersion >= range[0] && h.apiVersion <= range[1];
    const body = ok ? h.api!.decodeRequest(r, h.apiVersion) : undefined;
    this.frames.push({ header: h, frame, body });
    let version = h.apiVersion;
    let resp: unknown;
    if (h.apiKey === Apis.ApiVersions.apiKey) {
      const apiKeys = [...this.versions].map(([apiKey, [minVersion, maxVersion]]) => ({ apiKey, minVersion, maxVersion }));
      if (!ok) {
        version = 0; // an unsupported ApiVersions version is answered at v0 with the list
        resp = { errorCode: 35, apiKeys };
      } else resp = { errorCode: 0, apiKeys };
    } else if (ok) {
      resp = await this.handler(h, body, sock);
    }
    if (resp === undefined || sock.destroyed) return;
    const w = new Writer();
    const m = w.markInt32();
    encodeResponseHeader(w, h.correlationId, responseHeaderVersion(h.apiKey, version));
    h.api!.encodeResponse(w, version, resp);
    w.patchInt32(m, w.length - 4);
    sock.write(w.toBuffer());
  }
}
