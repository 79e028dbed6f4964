import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * What the proxy does to a call between a node and its peer.
 *
 * - `pass`: forwards the request and the peer's answer untouched.
 * - `refuse`: stops listening, so that connections are refused (ECONNREFUSED), as with a peer
 *   whose process is down.
 * - `reset`: forwards the request, passes on the first bytes of the answer (its head and a little
 *   of its body), then resets the connection (TCP RST).
 * - `freeze`: accepts the connection and reads the request, and never answers.
 * - `drip`: passes the peer's answer on one byte every `dripMs`.
 * - `garbage-bytes`: answers bytes that are not HTTP at all.
 * - `invalid-json`: answers HTTP 200 `application/fhir+json` whose body is not JSON.
 * - `non-fhir-json`: answers HTTP 200 `application/fhir+json` with JSON that is no FHIR resource.
 * - `huge`: answers HTTP 200 `application/fhir+json`, chunked, far beyond any sane size
 *   (`hugeBytes`), as fast as the reader takes it.
 * - `slow-headers`: answers a status line, then one header line every `dripMs`, and never ends
 *   the head.
 */
export type PeerFault = 'pass' | 'refuse' | 'reset' | 'freeze' | 'drip' | 'garbage-bytes' | 'invalid-json' | 'non-fhir-json' | 'huge' | 'slow-headers';

/** Every fault, for tests that go through all of them. */
export const PEER_FAULTS: readonly PeerFault[] = ['pass', 'refuse', 'reset', 'freeze', 'drip', 'garbage-bytes', 'invalid-json', 'non-fhir-json', 'huge', 'slow-headers'];

/** A marker carried by every answer the proxy makes up, so that a test can look for it downstream. */
export const FAULT_MARKER = 'FAULT-PROXY-MARKER';

/** Settings of a {@link FaultProxy}. */
export interface FaultProxyOptions {
  /** Interval of `drip` and `slow-headers` (ms). */
  dripMs?: number;
  /** Bytes of the `huge` answer's body. */
  hugeBytes?: number;
  /** Bytes of the peer's answer `reset` lets through before resetting (head included). */
  resetAfterBytes?: number;
}

/** One request the proxy saw: its path and what was done to it. */
export interface ProxiedRequest {
  path: string;
  fault: PeerFault;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * A TCP proxy put between a node and one peer (the node's peer URL points at it), switchable at
 * run time between faults ({@link PeerFault}). Each connection carries one request: the proxy
 * asks the peer to close after answering (`Connection: close`), and its own answers say so, so
 * that a fault set applies to the very next request and the connections counted are the calls
 * made. A fault may be limited to requests whose path matches `only`; the others pass (or get
 * another fault).
 */
export class FaultProxy {
  /** Connections accepted so far. */
  connections = 0;
  /** Bytes of made-up answers written so far (`huge` counts here). */
  bytesWritten = 0;
  /** Requests seen so far, in order. */
  readonly requests: ProxiedRequest[] = [];
  private fault: PeerFault = 'pass';
  private only: RegExp | undefined;
  private otherwise: PeerFault = 'pass';
  private readonly open = new Set<Socket>();
  private readonly upstreams = new Set<Socket>();
  private listening = false;
  private readonly dripMs: number;
  private readonly hugeBytes: number;
  private readonly resetAfterBytes: number;

  private constructor(
    private readonly server: Server,
    /** Port the proxy listens on (loopback). */
    readonly port: number,
    private readonly upstream: { host: string; port: number },
    options: FaultProxyOptions,
  ) {
    this.dripMs = options.dripMs ?? 100;
    this.hugeBytes = options.hugeBytes ?? 64 * 2 ** 20;
    this.resetAfterBytes = options.resetAfterBytes ?? 0;
  }

  /** Starts a proxy on `port` (0: any free port) in front of the HTTP server at `upstream`. */
  static async start(upstream: { host: string; port: number }, port = 0, options: FaultProxyOptions = {}): Promise<FaultProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('fault proxy: no address');
    const proxy = new FaultProxy(server, address.port, upstream, options);
    proxy.listening = true;
    server.on('connection', (socket) => proxy.accept(socket));
    return proxy;
  }

  /** Base URL of the proxy for a FHIR API at `path` (`/fhir`). */
  url(path = '/fhir'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Connections from the node that are open now (what a node that gave up has closed). */
  get openConnections(): number {
    return this.open.size;
  }

  /** The fault in force. */
  get current(): PeerFault {
    return this.fault;
  }

  /**
   * Sets the fault applied from the next connection on; with `only`, to requests whose path
   * matches it, the others getting `otherwise` (`refuse` applies to every connection: it is
   * decided before any request).
   */
  async set(fault: PeerFault, only?: RegExp, otherwise: Exclude<PeerFault, 'refuse'> = 'pass'): Promise<void> {
    this.fault = fault;
    this.only = only;
    this.otherwise = otherwise;
    if (fault === 'refuse' && this.listening) {
      this.listening = false;
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    } else if (fault !== 'refuse' && !this.listening) {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.port, '127.0.0.1', () => {
          this.server.off('error', reject);
          resolve();
        });
      });
      this.listening = true;
    }
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const socket of [...this.open, ...this.upstreams]) socket.destroy();
    if (this.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.listening = false;
  }

  private accept(client: Socket): void {
    this.connections += 1;
    this.open.add(client);
    client.on('close', () => this.open.delete(client));
    client.on('error', () => undefined);
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf(HEAD_END);
      if (end < 0) {
        if (received.length > 64 * 1024) client.destroy();
        return;
      }
      client.off('data', onData);
      // GETs only: what follows the head (a body, a pipelined request) is passed on as it is.
      const head = received.subarray(0, end).toString('latin1');
      const rest = received.subarray(end + HEAD_END.length);
      const path = head.split('\r\n')[0]?.split(' ')[1] ?? '';
      const fault = this.only && !this.only.test(path) ? this.otherwise : this.fault;
      this.requests.push({ path, fault });
      this.answer(client, fault, head, rest);
    };
    client.on('data', onData);
  }

  private answer(client: Socket, fault: PeerFault, head: string, rest: Buffer): void {
    switch (fault) {
      case 'pass':
      case 'refuse': // a connection accepted just before listening stopped
        return this.forward(
          client,
          head,
          rest,
          (answer, upstream) => void client.write(answer, () => upstream.resume()),
          () => client.end(),
        );
      case 'reset': {
        let limit = this.resetAfterBytes;
        return this.forward(
          client,
          head,
          rest,
          (answer, upstream) => {
            limit ||= headLength(answer) + 16;
            upstream.destroy();
            // The first bytes are let through, then the connection is reset while the answer goes on.
            client.write(answer.subarray(0, Math.min(limit, answer.length - 1)), () => setTimeout(() => client.resetAndDestroy(), 20));
          },
          () => undefined,
        );
      }
      case 'freeze':
        return;
      case 'drip': {
        const pending: Buffer[] = [];
        let upstreamDone = false;
        const timer = setInterval(() => {
          const next = pending[0];
          if (client.destroyed) return void clearInterval(timer);
          if (!next) {
            if (upstreamDone) {
              clearInterval(timer);
              client.end();
            }
            return;
          }
          client.write(next.subarray(0, 1));
          if (next.length > 1) pending[0] = next.subarray(1);
          else pending.shift();
        }, this.dripMs);
        client.on('close', () => clearInterval(timer));
        return this.forward(
          client,
          head,
          rest,
          (answer, upstream) => {
            pending.push(answer);
            upstream.resume();
          },
          () => (upstreamDone = true),
        );
      }
      case 'garbage-bytes':
        return this.made(client, Buffer.from(`\u0000\u0016\u0003\u0001 ${FAULT_MARKER} \u00ff\u00fe not HTTP at all\r\n\r\n`, 'latin1'));
      case 'invalid-json':
        return this.made(client, httpAnswer(`{"resourceType":"Bundle","type":"document","id":"${FAULT_MARKER}","entry":[{"resource":`));
      case 'non-fhir-json':
        return this.made(client, httpAnswer(`{"id":"${FAULT_MARKER}","entry":[{"note":"a JSON answer, but no FHIR resource"}]}`));
      case 'huge':
        return this.huge(client);
      case 'slow-headers': {
        let line = 0;
        client.write(`HTTP/1.1 200 OK\r\n`);
        const timer = setInterval(() => {
          if (client.destroyed) return void clearInterval(timer);
          client.write(`x-${FAULT_MARKER.toLowerCase()}-${line++}: a header that never ends the head\r\n`);
        }, this.dripMs);
        client.on('close', () => clearInterval(timer));
        return;
      }
    }
  }

  /**
   * Sends the request on to the peer, asking it to close after answering. Each piece of its answer
   * goes to `onAnswer` with the upstream paused (resume it to get more); `onEnd` is called once the
   * peer has closed.
   */
  private forward(client: Socket, head: string, rest: Buffer, onAnswer: (answer: Buffer, upstream: Socket) => void, onEnd: () => void): void {
    const upstream = connect(this.upstream.port, this.upstream.host);
    this.upstreams.add(upstream);
    upstream.on('close', () => {
      this.upstreams.delete(upstream);
      if (!client.destroyed) onEnd();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('data', (answer: Buffer) => {
      upstream.pause();
      onAnswer(answer, upstream);
    });
    upstream.write(`${withConnectionClose(head)}\r\n\r\n`);
    if (rest.length > 0) upstream.write(rest);
    client.on('data', (more: Buffer) => upstream.write(more));
  }

  /** Writes a made-up answer and closes. */
  private made(client: Socket, bytes: Buffer): void {
    this.bytesWritten += bytes.length;
    client.end(bytes);
  }

  private huge(client: Socket): void {
    const piece = Buffer.alloc(64 * 1024, 'x');
    const start = `{"resourceType":"Bundle","type":"document","id":"${FAULT_MARKER}","x":"`;
    client.write(`HTTP/1.1 200 OK\r\ncontent-type: application/fhir+json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${chunk(start)}`);
    let sent = 0;
    const more = (): void => {
      while (sent < this.hugeBytes && !client.destroyed) {
        sent += piece.length;
        this.bytesWritten += piece.length;
        const ok = client.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]));
        if (!ok) return void client.once('drain', more);
      }
      if (!client.destroyed) client.end(`${chunk('"}')}0\r\n\r\n`);
    };
    more();
  }
}

/** An HTTP/1.1 200 FHIR answer with `body`, closing the connection. */
function httpAnswer(body: string): Buffer {
  const bytes = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/fhir+json\r\ncontent-length: ${bytes.length}\r\nconnection: close\r\n\r\n`), bytes]);
}

function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

/** Length of the HTTP head at the start of `bytes`, or 0 when it does not end there. */
function headLength(bytes: Buffer): number {
  const end = bytes.indexOf(HEAD_END);
  return end < 0 ? 0 : end + HEAD_END.length;
}

/** The request head with its Connection header replaced by `close` (one request per connection). */
function withConnectionClose(head: string): string {
  const lines = head.split('\r\n').filter((line, i) => i === 0 || !/^connection\s*:/i.test(line));
  return [...lines, 'connection: close'].join('\r\n');
}
