import { connect } from 'node:net';

/** One HTTP response as read off a socket. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

/** What a raw exchange produced: the final (non-1xx) responses in order, and how the connection ended. */
export interface RawExchange {
  responses: RawResponse[];
  /** The connection was closed or reset by the node, or abandoned by us, before `expected` answers came. */
  incomplete: boolean;
  /** Bytes received that are not a well-formed HTTP response. */
  unparsable: boolean;
}

/** Options of {@link rawExchange}. */
export interface RawExchangeOptions {
  /** How many responses to wait for (pipelined requests: more than one). */
  expected: number;
  /** Give up after this long (the exchange is then incomplete). */
  timeoutMs: number;
  /** Write these bytes after the first part, once the first part is flushed (split requests). */
  abandonAfterMs?: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Parses as many complete responses as `data` holds. Returns them and the number of bytes they
 * took; `unparsable` when the bytes are not HTTP.
 */
export function parseResponses(data: Buffer, closed: boolean, headRequest = false): { responses: RawResponse[]; used: number; unparsable: boolean } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf(HEAD_END, at);
    if (end < 0) return { responses, used: at, unparsable: closed && data.length > at && !/^HTTP\/1\.[01] /.test(data.subarray(at, at + 9).toString('latin1')) };
    const head = data.subarray(at, end).toString('latin1');
    const [statusLine, ...lines] = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine ?? '');
    if (!m) return { responses, used: at, unparsable: true };
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) return { responses, used: at, unparsable: true };
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      at = bodyStart;
      continue;
    }
    let body: Buffer;
    if (headRequest || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunks: Buffer[] = [];
      let pos = bodyStart;
      for (;;) {
        const lineEnd = data.indexOf('\r\n', pos);
        if (lineEnd < 0) return { responses, used: at, unparsable: closed };
        const size = parseInt(data.subarray(pos, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size)) return { responses, used: at, unparsable: true };
        if (data.length < lineEnd + 2 + size + 2) return { responses, used: at, unparsable: closed };
        if (size === 0) {
          // No trailers are sent by the node: the chunked body ends with 0 CRLF CRLF.
          pos = lineEnd + 4;
          break;
        }
        chunks.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
        pos = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(chunks);
      bodyStart = pos;
      responses.push({ status, headers, body });
      at = bodyStart;
      continue;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isInteger(length) || length < 0) return { responses, used: at, unparsable: true };
      if (data.length < bodyStart + length) return { responses, used: at, unparsable: closed };
      body = data.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    } else {
      // Delimited by the connection's end.
      if (!closed) return { responses, used: at, unparsable: false };
      body = data.subarray(bodyStart);
      bodyStart = data.length;
    }
    responses.push({ status, headers, body });
    at = bodyStart;
  }
}

/**
 * Writes `parts` to a new connection (each after the previous is flushed), reads responses until
 * `expected` of them arrived, the node closes, or the time is up; then destroys the connection.
 * With `abandonAfterMs` the connection is destroyed after that long whatever arrived: a client
 * that never finishes its request.
 */
export function rawExchange(port: number, parts: readonly Buffer[], options: RawExchangeOptions & { headRequest?: boolean }): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean, abandoned: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(received);
      const { responses, unparsable } = parseResponses(data, closed, options.headRequest);
      resolve({ responses, incomplete: abandoned || responses.length < options.expected, unparsable });
    };
    const timer = setTimeout(() => finish(true, true), options.abandonAfterMs ?? options.timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      if (options.abandonAfterMs !== undefined) return;
      const { responses } = parseResponses(Buffer.concat(received), false, options.headRequest);
      if (responses.length >= options.expected) finish(false, false);
    });
    socket.on('error', () => finish(true, false));
    socket.on('close', () => finish(true, false));
    socket.on('connect', () => {
      const write = (i: number) => {
        if (i >= parts.length || settled) return;
        socket.write(parts[i]!, () => write(i + 1));
      };
      write(0);
    });
  });
}
