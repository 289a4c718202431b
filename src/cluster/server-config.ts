/**
 * The Temporal server's configuration, as the `temporalio/server` image renders its
 * config_template.yaml from the environment docker-compose.yml gives it (DB=postgres12,
 * POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, POSTGRES_PWD, BIND_ON_IP), with the template's defaults
 * for everything compose leaves unset. Only the addresses differ: everything runs on 127.0.0.1.
 */
import { DISPATCH_CONFIG } from '../server/dispatch.js';
import { POSTGRES_PASSWORD, POSTGRES_USER } from './postgres.js';

/** YAML is a superset of JSON: the server reads this as its YAML config. */
function yamlText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The settings compose passes as environment; test/compose.test.ts compares them with the file. */
export interface ServerEnvironment {
  DB: 'postgres12';
  DB_PORT: string;
  POSTGRES_USER: string;
  POSTGRES_PWD: string;
  POSTGRES_SEEDS: string;
  BIND_ON_IP: string;
}

/**
 * The compose file's x-temporal-db-env and BIND_ON_IP, for PostgreSQL at 127.0.0.1:`postgresPort`
 * (compose: the `postgresql` service at 5432) and a server reachable on this machine only.
 */
export function serverEnvironment(postgresPort: number): ServerEnvironment {
  return {
    DB: 'postgres12',
    DB_PORT: String(postgresPort),
    POSTGRES_USER,
    POSTGRES_PWD: POSTGRES_PASSWORD,
    POSTGRES_SEEDS: '127.0.0.1',
    BIND_ON_IP: '127.0.0.1',
  };
}

export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/** The ports config_template.yaml defaults to (frontend 7233 as in compose). */
export const DEFAULT_SERVER_PORTS: ServerPorts = {
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
};

/** The image's default dynamic config (config/dynamicconfig/docker.yaml), and our dispatch settings. */
export const DYNAMIC_CONFIG = yamlText({
  'limit.maxIDLength': [{ value: 255, constraints: {} }],
  'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true, constraints: {} }],
  ...Object.fromEntries(
    Object.entries(DISPATCH_CONFIG).map(([key, value]) => [key, [{ value, constraints: {} }]]),
  ),
});

function sqlStore(env: ServerEnvironment, database: string, maxConns: number) {
  return {
    sql: {
      pluginName: env.DB,
      databaseName: database,
      connectAddr: `${env.POSTGRES_SEEDS}:${env.DB_PORT}`,
      connectProtocol: 'tcp',
      user: env.POSTGRES_USER,
      password: env.POSTGRES_PWD,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

function rpc(env: ServerEnvironment, grpcPort: number, membershipPort: number, httpPort?: number) {
  return { rpc: { grpcPort, membershipPort, bindOnIP: env.BIND_ON_IP, ...(httpPort ? { httpPort } : {}) } };
}

/** development.yaml for `temporal-server --env development start`. */
export function serverConfig(env: ServerEnvironment, ports: ServerPorts, dynamicConfigFile: string): string {
  const archival = {
    state: 'enabled',
    enableRead: true,
    provider: { filestore: { fileMode: '0666', dirMode: '0766' } },
  };
  return yamlText({
    log: { stdout: true, level: 'info' },
    persistence: {
      numHistoryShards: 4,
      defaultStore: 'default',
      visibilityStore: 'visibility',
      datastores: {
        default: sqlStore(env, 'temporal', 20),
        visibility: sqlStore(env, 'temporal_visibility', 10),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: env.BIND_ON_IP },
      pprof: { port: 0 },
    },
    services: {
      frontend: rpc(env, ports.frontend, ports.frontendMembership, ports.frontendHttp),
      matching: rpc(env, ports.matching, ports.matchingMembership),
      history: rpc(env, ports.history, ports.historyMembership),
      worker: rpc(env, ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
          httpAddress: `127.0.0.1:${ports.frontendHttp}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: archival, visibility: archival },
    namespaceDefaults: {
      archival: {
        history: { state: 'disabled', URI: 'file:///tmp/temporal_archival/development' },
        visibility: { state: 'disabled', URI: 'file:///tmp/temporal_vis_archival/development' },
      },
    },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '60s' },
  });
}
