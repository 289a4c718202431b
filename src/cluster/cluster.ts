/**
 * The production deployment of docker-compose.yml, run as local processes under one data
 * directory: PostgreSQL, Temporal's schema applied by its SQL tool, the Temporal server, the
 * `default` namespace, and the Web UI. Ports are chosen on the first `up` and kept with the data.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { serverAnswers } from '../server/embedded.js';
import { freePort, freePortBelow, portFree } from '../server/ports.js';
import { temporalPrograms, uiPrograms, type TemporalPrograms, type UiPrograms } from './components.js';
import { Daemon } from './daemon.js';
import { Postgres, POSTGRES_PASSWORD, POSTGRES_USER } from './postgres.js';
import {
  DEFAULT_SERVER_PORTS,
  DYNAMIC_CONFIG,
  serverConfig,
  serverEnvironment,
  type ServerPorts,
} from './server-config.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const NAMESPACE = 'default';
/** The compose file's `default` namespace retention (temporal operator namespace create's default). */
const RETENTION_MS = 3 * 24 * 3600 * 1000;
/** The compose file's published ports. */
export const DEFAULT_UI_PORT = 8080;
export const DEFAULT_POSTGRES_PORT = 5432;

interface Ports {
  server: ServerPorts;
  postgres: number;
  ui: number;
}

type Say = (line: string) => void;

/** The compose file's ports when all are free on this machine (and wanted), else free ones. */
async function choosePorts(frontend?: number, anyFree = false): Promise<Ports> {
  const defaults: Ports = {
    server: { ...DEFAULT_SERVER_PORTS, ...(frontend ? { frontend } : {}) },
    postgres: DEFAULT_POSTGRES_PORT,
    ui: DEFAULT_UI_PORT,
  };
  const all = [...Object.values(defaults.server), defaults.postgres, defaults.ui];
  if (!anyFree && (await Promise.all(all.map(portFree))).every(Boolean)) return defaults;
  // The server stores its membership ports in a smallint column: below 32768, unlike the OS's picks.
  const server = {} as ServerPorts;
  for (const k of Object.keys(DEFAULT_SERVER_PORTS) as (keyof ServerPorts)[])
    server[k] = await freePortBelow(32768, Object.values(server));
  if (frontend) server.frontend = frontend;
  return { server, postgres: await freePort(), ui: await freePort() };
}

export interface ClusterOptions {
  /** The frontend port on the first `up` (default 7233 when free). */
  port?: number;
  /** Free ports rather than the compose file's (tests, beside a cluster on the usual ports). */
  anyFreePorts?: boolean;
  say?: Say;
}

export class Cluster {
  readonly postgres: Postgres;
  private temporal: TemporalPrograms | undefined;
  private uiFiles: UiPrograms | undefined;
  /** Why the UI is not running, when it could not be built. */
  uiUnavailable: string | undefined;

  private constructor(
    readonly dir: string,
    readonly ports: Ports,
    private readonly say: Say,
  ) {
    this.postgres = new Postgres(path.join(dir, 'postgres'), ports.postgres);
  }

  get server(): Daemon {
    return this.daemon('Temporal server', 'server');
  }

  get ui(): Daemon {
    return this.daemon('Temporal Web UI', 'ui');
  }

  /** A daemon runs the program recorded by the `up` that started it (a pid is checked against it). */
  private daemon(name: string, file: 'server' | 'ui'): Daemon {
    const recorded = path.join(this.dir, 'programs.json');
    const programs = existsSync(recorded)
      ? (JSON.parse(readFileSync(recorded, 'utf8')) as Record<string, string | undefined>)
      : {};
    const dir = path.join(this.dir, 'temporal');
    return new Daemon(
      name,
      programs[file] ?? '',
      path.join(dir, `${file}.pid`),
      path.join(dir, `${file}.log`),
    );
  }

  /** The cluster whose data lives in `dir`: its ports as first chosen, or new ones. */
  static async open(dir: string, options: ClusterOptions = {}): Promise<Cluster> {
    mkdirSync(path.join(dir, 'temporal'), { recursive: true });
    const stateFile = path.join(dir, 'cluster.json');
    let ports: Ports;
    if (existsSync(stateFile)) {
      ports = (JSON.parse(readFileSync(stateFile, 'utf8')) as { ports: Ports }).ports;
    } else {
      ports = await choosePorts(options.port, options.anyFreePorts);
      writeFileSync(stateFile, `${JSON.stringify({ ports }, null, 2)}\n`);
    }
    return new Cluster(dir, ports, options.say ?? (() => undefined));
  }

  get address(): string {
    return `127.0.0.1:${this.ports.server.frontend}`;
  }

  get uiUrl(): string {
    return `http://127.0.0.1:${this.ports.ui}`;
  }

  /** Builds what is missing, starts what is not running; returns once the server serves jobs. */
  async up(options: { ui?: boolean } = {}): Promise<void> {
    this.temporal = await temporalPrograms(this.say);
    if (options.ui !== false) {
      try {
        this.uiFiles = await uiPrograms(this.say);
      } catch (err) {
        this.uiUnavailable = (err as Error).message;
      }
    }
    // A UI that cannot be built is reported by `up`, not fatal: jobs do not need it.
    // The pid files are checked against these paths; an UI started earlier stays known.
    const programs = { server: this.temporal.server, ui: this.uiFiles?.server ?? this.ui.program };
    writeFileSync(path.join(this.dir, 'programs.json'), `${JSON.stringify(programs, null, 2)}\n`);

    await this.postgres.init();
    await this.postgres.start();
    await this.applySchema();
    await this.startServer();
    await this.ensureNamespace();
    if (this.uiFiles) await this.startUi();
  }

  /** The compose file's temporal-admin-tools job: create the databases, apply the versioned schemas. */
  private async applySchema(): Promise<void> {
    const { sqlTool, schemaDir } = this.temporal!;
    const marker = path.join(this.dir, 'postgres', 'schema-created');
    const env = { ...process.env, SQL_PASSWORD: POSTGRES_PASSWORD };
    for (const [db, dir] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ] as const) {
      const sql = async (...args: string[]) => {
        const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-u', POSTGRES_USER];
        try {
          await run(sqlTool, [...base, '-p', String(this.ports.postgres), '--db', db, ...args], { env });
        } catch (err) {
          const e = err as { stderr?: string; stdout?: string; message: string };
          throw new Error(
            `temporal-sql-tool ${args[0]} of ${db} failed: ${e.stderr || e.stdout || e.message}`,
            {
              cause: err,
            },
          );
        }
      };
      if (!existsSync(`${marker}-${db}`)) {
        this.say(`creating database ${db}`);
        await sql('create');
        await sql('setup-schema', '-v', '0.0');
        writeFileSync(`${marker}-${db}`, '');
      }
      // Applies only the versions not yet applied: a no-op on later `up`s, an upgrade after a bump.
      await sql('update-schema', '-d', path.join(schemaDir, dir, 'versioned'));
    }
  }

  async startServer(): Promise<void> {
    if (!this.server.running) {
      const configDir = path.join(this.dir, 'temporal', 'config');
      mkdirSync(configDir, { recursive: true });
      const dynamicConfig = path.join(configDir, 'dynamicconfig.yaml');
      writeFileSync(dynamicConfig, DYNAMIC_CONFIG);
      writeFileSync(
        path.join(configDir, 'development.yaml'),
        serverConfig(serverEnvironment(this.ports.postgres), this.ports.server, dynamicConfig),
      );
      const root = path.join(this.dir, 'temporal');
      this.server.start(
        ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'],
        {
          cwd: root,
        },
      );
    }
    await this.waitForServer();
  }

  async stopServer(): Promise<void> {
    await this.server.stop();
  }

  private async waitForServer(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.server.running)
        throw new Error(
          `the Temporal server exited; the end of ${this.server.logFile}:\n${this.server.tail()}`,
        );
      if (await serverAnswers(this.address)) return;
      if (Date.now() > deadline)
        throw new Error(
          `the Temporal server did not answer at ${this.address} within ${timeoutMs / 1000} s; ` +
            `the end of ${this.server.logFile}:\n${this.server.tail()}`,
        );
      await sleep(500);
    }
  }

  private async connection(): Promise<Connection> {
    return Connection.connect({ address: this.address, connectTimeout: '2s' });
  }

  /** The compose file's temporal-create-namespace job; waits until the frontend knows it. */
  private async ensureNamespace(timeoutMs = 60_000): Promise<void> {
    const connection = await this.connection();
    try {
      const service = connection.workflowService;
      const deadline = Date.now() + timeoutMs;
      try {
        await service.describeNamespace({ namespace: NAMESPACE });
      } catch {
        this.say(`registering namespace ${NAMESPACE}`);
        await service
          .registerNamespace({
            namespace: NAMESPACE,
            workflowExecutionRetentionPeriod: msToTs(RETENTION_MS),
          })
          .catch((err: { code?: number }) => {
            if (err.code !== 6) throw err; // ALREADY_EXISTS: registered meanwhile
          });
      }
      // The frontend caches namespaces for a few seconds: a job started now could still fail.
      for (;;) {
        try {
          await service.listWorkflowExecutions({ namespace: NAMESPACE, pageSize: 1 });
          return;
        } catch (err) {
          if (Date.now() > deadline)
            throw new Error(`namespace ${NAMESPACE} is not usable: ${(err as Error).message}`, {
              cause: err,
            });
          await sleep(1000);
        }
      }
    } finally {
      await connection.close();
    }
  }

  private async startUi(): Promise<void> {
    const { configDir } = this.uiFiles!;
    // The environment the compose file's temporal-ui service gets, plus this machine's ports.
    const origins = [`http://127.0.0.1:${this.ports.ui}`, `http://localhost:${this.ports.ui}`];
    this.ui.start(['--root', path.dirname(configDir), '--config', 'config', '--env', 'docker', 'start'], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: this.address,
        TEMPORAL_UI_PORT: String(this.ports.ui),
        TEMPORAL_CORS_ORIGINS: origins.join(','),
      },
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!this.ui.running) throw new Error(`the Web UI server exited:\n${this.ui.tail()}`);
      const ok = await fetch(this.uiUrl).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`the Web UI did not answer at ${this.uiUrl}:\n${this.ui.tail()}`);
      await sleep(300);
    }
  }

  /** Stops everything; the data directory keeps the jobs for the next `up`. */
  async down(): Promise<void> {
    await this.ui.stop();
    await this.server.stop();
    await this.postgres.stop();
  }
}
