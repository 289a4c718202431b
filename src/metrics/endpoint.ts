/**
 * A worker's Prometheus endpoint (`--metrics-port`): one /metrics with the Temporal SDK's own
 * metrics (task latencies, slots, polls, requests) and ours. The SDK's exporter listens on a
 * private loopback port chosen here; the endpoint appends its text to our counters.
 */
import { createServer, type Server } from 'node:http';
import { freePort } from '../server/ports.js';
import { renderCounters } from './counters.js';

export interface MetricsEndpoint {
  port: number;
  close(): Promise<void>;
}

/** A free loopback address for the SDK's exporter (Runtime.install, before any connection). */
export async function sdkMetricsAddress(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

async function sdkMetrics(address: string): Promise<string> {
  try {
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : `# the SDK's metrics answered HTTP ${res.status}\n`;
  } catch (err) {
    return `# the SDK's metrics are not available: ${(err as Error).message}\n`;
  }
}

/** Serves /metrics on every interface at `port` (a scraper in another container must reach it). */
export async function serveMetrics(port: number, sdkAddress: string): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('see /metrics\n');
      return;
    }
    void sdkMetrics(sdkAddress).then((sdk) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(renderCounters() + sdk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`--metrics-port ${port}: ${err.message}`, { cause: err })),
    );
    server.listen(port, resolve);
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
