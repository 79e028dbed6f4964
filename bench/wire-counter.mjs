// A TCP proxy in front of a MongoDB-wire server that counts the commands clients send, by name
// (the first key of each OP_MSG body): what a request costs in database round trips, seen on the
// wire whatever the node's code does. Monitoring commands (hello, ping, ...) are not counted.
import { createServer, connect } from 'node:net';

const OP_MSG = 2013;
const MONITORING = new Set(['hello', 'ismaster', 'isMaster', 'ping', 'buildInfo', 'buildinfo', 'endSessions', 'saslStart', 'saslContinue', 'getParameter']);

/** Name of the command in one OP_MSG message (its first section's first key), if readable. */
function commandName(message) {
  // header (16) + flagBits (4) + section kind (1) + document length (4) + element type (1)
  if (message.readInt32LE(12) !== OP_MSG || message.length < 27 || message[20] !== 0) return undefined;
  const start = 26;
  const end = message.indexOf(0, start);
  return end > start ? message.toString('latin1', start, end) : undefined;
}

/**
 * Starts the proxy on a free loopback port in front of `target` (`host:port`). Resolves to its
 * port, `counts()` (commands by name since the last `reset()`), `reset()` and `close()`.
 */
export async function startWireCounter(target) {
  const [host, port] = target.split(':');
  let counts = new Map();
  const sockets = new Set();
  const server = createServer((client) => {
    const upstream = connect(Number(port), host);
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 16) {
        const length = pending.readInt32LE(0);
        if (pending.length < length) break;
        const name = commandName(pending.subarray(0, length));
        if (name !== undefined && !MONITORING.has(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
        pending = pending.subarray(length);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    counts: () => Object.fromEntries([...counts].sort()),
    reset: () => {
      counts = new Map();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
