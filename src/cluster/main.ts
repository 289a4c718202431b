/**
 * `npm run cluster -- up|down|status`: the deployment of docker-compose.yml (PostgreSQL, the
 * Temporal server, its Web UI) as background processes on this machine, for CI, the tests and a
 * laptop. `up` builds what is missing, starts what is not running, prints the addresses, returns.
 */
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { Cluster } from './cluster.js';
import { temporalPrograms, uiPrograms } from './components.js';

/** Root's home is closed to the postgres user PostgreSQL runs as, so root's cluster lives in /var/lib. */
function defaultDataDir(): string {
  if (process.env.BOSS_INGEST_CLUSTER_DIR) return process.env.BOSS_INGEST_CLUSTER_DIR;
  if (process.getuid?.() === 0) return '/var/lib/boss-ingest/cluster';
  return path.join(os.homedir(), '.local', 'share', 'boss-ingest', 'cluster');
}

const say = (line: string) => console.error(line);

async function open(opts: { data: string; port?: string }): Promise<Cluster> {
  const port = opts.port === undefined ? undefined : Number(opts.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
    throw new Error(`--port must be a TCP port, not ${JSON.stringify(opts.port)}`);
  return Cluster.open(path.resolve(opts.data), { port, say });
}

function printAddresses(cluster: Cluster, ui: boolean): void {
  console.log(`address: ${cluster.address}`);
  if (ui && cluster.ui.running) console.log(`ui: ${cluster.uiUrl}`);
  else if (cluster.uiUnavailable) console.log(`ui: not available (${cluster.uiUnavailable})`);
}

const program = new Command('cluster')
  .description('PostgreSQL + Temporal server + Web UI as in docker-compose.yml, run as local processes')
  .option('-d, --data <dir>', 'data directory (BOSS_INGEST_CLUSTER_DIR)', defaultDataDir());

program
  .command('up')
  .description('build what is missing, start what is not running, print the addresses')
  .option('--port <port>', 'frontend port on the first up (default 7233 when free)')
  .option('--no-ui', 'do not start the Web UI')
  .action(async (opts: { port?: string; ui: boolean }) => {
    const cluster = await open({ ...program.opts<{ data: string }>(), ...opts });
    await cluster.up({ ui: opts.ui });
    say(`cluster data in ${cluster.dir}; stop it with: npm run cluster -- down`);
    printAddresses(cluster, opts.ui);
  });

program
  .command('build')
  .description('only build (or find in the cache) the server, its SQL tool and the Web UI')
  .action(async () => {
    const server = await temporalPrograms(say);
    console.log(`server: ${server.server}\nsql tool: ${server.sqlTool}`);
    console.log(`ui: ${(await uiPrograms(say)).server}`);
  });

program
  .command('down')
  .description('stop the Web UI, the server and PostgreSQL; the data stays for the next up')
  .action(async () => {
    const cluster = await open(program.opts<{ data: string }>());
    await cluster.down();
    say(`stopped; data kept in ${cluster.dir}`);
  });

program
  .command('status')
  .description('what is running')
  .action(async () => {
    const cluster = await open(program.opts<{ data: string }>());
    const state = (up: boolean) => (up ? 'running' : 'stopped');
    console.log(`postgres: ${state(await cluster.postgres.running())} (127.0.0.1:${cluster.ports.postgres})`);
    console.log(`server: ${state(cluster.server.running)} (${cluster.address})`);
    console.log(`ui: ${state(cluster.ui.running)} (${cluster.uiUrl})`);
  });

program.parseAsync().catch((err: Error) => {
  console.error(`cluster: ${err.message}`);
  process.exit(1);
});
