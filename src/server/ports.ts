/** TCP ports on the loopback interface for the servers we start: a free one, or whether one is free. */
import { connect, createServer } from 'node:net';

/** A port nothing listens on now (the OS's choice); taken again only by a race. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A free port in [10000, `limit`), not one of `taken`. */
export async function freePortBelow(limit: number, taken: number[] = []): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (limit - 10_000));
    if (!taken.includes(port) && (await portFree(port))) return port;
  }
  throw new Error(`no free TCP port below ${limit}`);
}

export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Whether something accepts TCP connections at `host:port`, answered within `timeoutMs`. A refused
 * connection answers at once, where a gRPC connect would retry until its own timeout.
 */
export async function portListens(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (listens: boolean) => {
      socket.destroy();
      resolve(listens);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
