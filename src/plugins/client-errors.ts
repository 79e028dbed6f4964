import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Plugin } from '@hapi/hapi';
import type { Logger } from 'pino';
import type { HttpLimits } from '../config.js';
import { operationOutcome, type IssueCode } from '../fhir/operation-outcome.js';

/** The answer to a request Node's HTTP parser refused before hapi saw it. */
interface ParserRefusal {
  status: number;
  reason: string;
  code: IssueCode;
  message: string;
}

/** Maps a parser error (its code only: its message and `rawPacket` quote the request) to an answer. */
export function refusalOf(errorCode: string | undefined, limits: HttpLimits): ParserRefusal {
  switch (errorCode) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', code: 'too-costly', message: `the request line and headers exceed the limit of ${limits.maxHeaderBytes} bytes` };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', code: 'timeout', message: `the request did not arrive in time (headers within ${limits.headersTimeoutMs / 1000} s, the whole request within ${limits.requestTimeoutMs / 1000} s)` };
    default:
      return { status: 400, reason: 'Bad Request', code: 'structure', message: 'the request is not valid HTTP/1.1' };
  }
}

/** Writes `refusal` as a complete HTTP answer on a raw socket and closes it. */
function answerOnSocket(socket: Duplex, refusal: ParserRefusal, requestId: string, extraHeaders = ''): void {
  const body = JSON.stringify(operationOutcome([{ code: refusal.code, message: refusal.message }]));
  socket.end(
    `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\n` +
      'Content-Type: application/fhir+json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n' +
      'Cache-Control: no-store\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      `X-Request-Id: ${requestId}\r\n` +
      extraHeaders +
      '\r\n' +
      body,
  );
}

/** CONNECT and protocol upgrades are not part of a FHIR API. */
const NOT_HTTP_API: ParserRefusal = { status: 405, reason: 'Method Not Allowed', code: 'not-supported', message: 'CONNECT and protocol upgrades are not supported: this is a FHIR REST API' };

/**
 * Answers requests that Node's HTTP parser refuses (oversized headers, malformed request lines,
 * bad chunking, slow clients) and CONNECT or Upgrade requests with an OperationOutcome instead
 * of hapi's bare `400` or a closed connection, and logs
 * only the parser's error code: the error's `rawPacket` holds the raw request, bearer token
 * included, and was logged before. The connection is closed after the answer.
 */
export const clientErrorsPlugin: Plugin<{ logger: Logger; limits: HttpLimits }> = {
  name: 'pontis-client-errors',
  register(server, { logger, limits }) {
    const listener = server.listener;
    // hapi's handler logs the whole error object; ours replaces it.
    listener.removeAllListeners('clientError');
    listener.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      const refusal = refusalOf(error.code, limits);
      const requestId = randomUUID();
      // A response already under way (headers sent) cannot be replaced: the connection just ends.
      const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
        socket.destroy();
        return;
      }
      logger.info({ requestId, parserError: error.code ?? 'unknown', statusCode: refusal.status }, 'request refused by the HTTP parser');
      answerOnSocket(socket, refusal, requestId);
    });
    // Without these listeners Node closes the connection without a word (CONNECT) or hands the
    // socket to nobody (Upgrade): a refusal like any other, instead.
    for (const event of ['connect', 'upgrade'] as const) {
      listener.on(event, (_request: unknown, socket: Duplex) => {
        const requestId = randomUUID();
        logger.info({ requestId, statusCode: NOT_HTTP_API.status, refused: event }, 'request refused: not a FHIR REST request');
        if (socket.writable) answerOnSocket(socket, NOT_HTTP_API, requestId, 'Allow: GET, POST, PUT\r\n');
        else socket.destroy();
      });
    }
  },
};
