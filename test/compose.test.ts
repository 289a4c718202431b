// Static checks of the deployment files (docker-compose.yml, Dockerfile): no Docker engine is
// needed, so these run everywhere `npm test` runs.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEFAULT_POSTGRES_PORT, DEFAULT_UI_PORT, NAMESPACE } from '../src/cluster/cluster.js';
import { POSTGRES_MAJOR, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../src/cluster/components.js';
import { POSTGRES_PASSWORD, POSTGRES_USER } from '../src/cluster/postgres.js';
import { DEFAULT_SERVER_PORTS, DYNAMIC_CONFIG, serverEnvironment } from '../src/cluster/server-config.js';
import { COUNTERS } from '../src/metrics/counters.js';
import { TEMPORAL_CLI_VERSION } from '../src/server/temporal-cli.js';

// The compiled test lives in dist/test/, so the repo root is two levels up.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

type Dict = Record<string, unknown>;

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  container_name?: string;
  ports?: unknown[];
  volumes?: (string | Dict)[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: string[] | Record<string, unknown>;
}

function readRepoFile(rel: string): string {
  const file = path.join(ROOT, rel);
  assert.ok(existsSync(file), `${rel} is missing at the repo root (${ROOT})`);
  return readFileSync(file, 'utf8');
}

function loadCompose(): { services: Record<string, Service>; raw: Dict } {
  const text = readRepoFile('docker-compose.yml');
  let raw: unknown;
  try {
    raw = parse(text, { merge: true });
  } catch (err) {
    assert.fail(`docker-compose.yml is not valid YAML: ${(err as Error).message}`);
  }
  assert.ok(raw && typeof raw === 'object', 'docker-compose.yml does not contain a YAML mapping');
  const services = (raw as Dict).services;
  assert.ok(services && typeof services === 'object', 'docker-compose.yml has no `services:` mapping');
  return { services: services as Record<string, Service>, raw: raw as Dict };
}

function commandWords(command: Service['command']): string[] {
  if (command === undefined) return [];
  return Array.isArray(command) ? command.map(String) : command.trim().split(/\s+/);
}

function dependsOn(svc: Service): Record<string, string | undefined> {
  const deps = svc.depends_on;
  if (!deps) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d?.condition]));
}

function envOf(svc: Service): Record<string, string> {
  const env = svc.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((kv) => {
        const i = kv.indexOf('=');
        return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/** Short-syntax volume "src:dst[:mode]" or long syntax {type, source, target, read_only}. */
function parseVolume(v: string | Dict): { source: string; target: string; readOnly: boolean } {
  if (typeof v === 'string') {
    // Sources may contain ${VAR:-default}, whose ':' is not a separator: split outside braces.
    const parts: string[] = [];
    let depth = 0;
    let cur = '';
    for (const ch of v) {
      if (ch === '{') depth++;
      if (ch === '}') depth--;
      if (ch === ':' && depth === 0) {
        parts.push(cur);
        cur = '';
      } else cur += ch;
    }
    parts.push(cur);
    const [source = '', target = '', mode = ''] = parts;
    return { source, target, readOnly: mode.split(',').includes('ro') };
  }
  return { source: String(v.source ?? ''), target: String(v.target ?? ''), readOnly: v.read_only === true };
}

/** Dockerfile stages: instructions (continuations joined, comments dropped) per FROM. */
function dockerfileStages(text: string): { from: string; instructions: string[] }[] {
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const stages: { from: string; instructions: string[] }[] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) stages.push({ from: line, instructions: [] });
    else if (stages.length > 0) stages[stages.length - 1].instructions.push(line);
  }
  return stages;
}

describe('docker-compose.yml (static checks)', function () {
  it('parses as YAML and defines the expected services', function () {
    const { services } = loadCompose();
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'worker']) {
      assert.ok(services[name], `service "${name}" is missing from docker-compose.yml`);
    }
  });

  it('every service has an image or a build whose Dockerfile exists', function () {
    const { services } = loadCompose();
    for (const [name, svc] of Object.entries(services)) {
      assert.ok(svc.image || svc.build, `service "${name}" has neither image nor build`);
      if (svc.build) {
        const context = typeof svc.build === 'string' ? svc.build : (svc.build.context ?? '.');
        const dockerfile =
          typeof svc.build === 'string' ? 'Dockerfile' : (svc.build.dockerfile ?? 'Dockerfile');
        const file = path.resolve(ROOT, context, dockerfile);
        assert.ok(existsSync(file), `service "${name}" builds from ${file}, which does not exist`);
      }
    }
  });

  it('pins image tags (no implicit :latest)', function () {
    const { services } = loadCompose();
    for (const [name, svc] of Object.entries(services)) {
      if (!svc.image || svc.build) continue;
      assert.match(svc.image, /:[^/]+$/, `service "${name}" image "${svc.image}" has no pinned tag`);
      assert.doesNotMatch(svc.image, /:latest$/, `service "${name}" uses the floating :latest tag`);
    }
  });

  it('temporal waits for the schema setup job to complete successfully', function () {
    const { services } = loadCompose();
    const deps = dependsOn(services.temporal);
    const jobs = Object.entries(deps).filter(([, cond]) => cond === 'service_completed_successfully');
    assert.ok(
      jobs.length > 0,
      `temporal must depend_on the schema job with condition service_completed_successfully; has ${JSON.stringify(deps)}`,
    );
    for (const [job] of jobs) {
      const svc = services[job];
      assert.ok(svc, `temporal depends on "${job}", which is not a service`);
      const script = commandWords(svc.command).join(' ') + ' ' + commandWords(svc.entrypoint).join(' ');
      assert.match(script, /temporal-sql-tool/, `schema job "${job}" does not run temporal-sql-tool`);
      assert.match(script, /postgres12/, `schema job "${job}" does not use the postgres12 plugin`);
      assert.match(
        script,
        /\btemporal_visibility\b/,
        `schema job "${job}" does not set up temporal_visibility`,
      );
    }
  });

  it('temporal-ui points at the temporal service', function () {
    const { services } = loadCompose();
    assert.equal(
      envOf(services['temporal-ui']).TEMPORAL_ADDRESS,
      'temporal:7233',
      'temporal-ui TEMPORAL_ADDRESS must be temporal:7233',
    );
  });

  it('the server reads the same dynamic config as the cluster (one task queue partition)', function () {
    const volumes = (loadCompose().services.temporal.volumes ?? []).map(parseVolume);
    const mount = volumes.find((v) => v.target === '/etc/temporal/config/dynamicconfig/docker.yaml');
    assert.ok(mount, `temporal does not mount its dynamic config: ${JSON.stringify(volumes)}`);
    assert.equal(mount.source, './temporal/dynamicconfig.yaml');
    const file = parse(readRepoFile('temporal/dynamicconfig.yaml')) as Record<string, unknown>;
    assert.deepEqual(file, parse(DYNAMIC_CONFIG));
    assert.deepEqual(file['matching.numTaskqueueReadPartitions'], [{ value: 1, constraints: {} }]);
  });

  it('a setup job creates the default namespace the workers use', function () {
    const { services } = loadCompose();
    const creators = Object.entries(services).filter(([, svc]) =>
      /temporal operator namespace create/.test(commandWords(svc.command).join(' ')),
    );
    assert.ok(creators.length > 0, 'no service runs `temporal operator namespace create`');
  });

  describe('worker', function () {
    it('runs `boss-ingest worker`', function () {
      const { services } = loadCompose();
      const words = commandWords(services.worker.command);
      assert.deepEqual(
        words.slice(0, 2),
        ['boss-ingest', 'worker'],
        `worker command must start with "boss-ingest worker", got ${JSON.stringify(services.worker.command)}`,
      );
    });

    it('connects to the temporal service', function () {
      const env = envOf(loadCompose().services.worker);
      assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233', 'worker TEMPORAL_ADDRESS must be temporal:7233');
      assert.ok(env.TEMPORAL_NAMESPACE, 'worker has no TEMPORAL_NAMESPACE');
    });

    it('mounts the data directory read-only at /data', function () {
      const volumes = (loadCompose().services.worker.volumes ?? []).map(parseVolume);
      const data = volumes.find((v) => v.target === '/data');
      assert.ok(data, `worker does not mount anything at /data: ${JSON.stringify(volumes)}`);
      assert.ok(data.readOnly, `worker mounts ${data.source} at /data read-write; it must be :ro`);
      assert.ok(
        volumes.some((v) => v.target === '/output' && !v.readOnly),
        'worker has no writable /output mount',
      );
    });

    it('can be scaled: no container_name and no host port', function () {
      const worker = loadCompose().services.worker;
      assert.equal(worker.container_name, undefined, 'worker sets container_name, which breaks --scale');
      for (const p of worker.ports ?? []) {
        const spec =
          typeof p === 'object' && p !== null ? (p as Dict).published : String(p).split(':').length > 1;
        assert.ok(!spec, `worker publishes host port ${JSON.stringify(p)}, which breaks --scale`);
      }
    });
  });
});

describe('Dockerfile (static checks)', function () {
  const pkg = JSON.parse(readRepoFile('package.json')) as { bin?: Record<string, string> };

  it('package.json bin boss-ingest is dist/src/cli/main.js', function () {
    assert.equal(pkg.bin?.['boss-ingest'], 'dist/src/cli/main.js', 'package.json bin["boss-ingest"] changed');
  });

  it('is multi-stage and the runtime stage runs unprivileged with boss-ingest on PATH', function () {
    const stages = dockerfileStages(readRepoFile('Dockerfile'));
    assert.ok(stages.length >= 2, `Dockerfile must be multi-stage, found ${stages.length} stage(s)`);
    const runtime = stages[stages.length - 1];
    const body = runtime.instructions.join('\n');

    const workdirs = runtime.instructions.filter((i) => /^WORKDIR\s/i.test(i));
    assert.ok(workdirs.length > 0, 'runtime stage has no WORKDIR');
    const appDir = workdirs[workdirs.length - 1].split(/\s+/)[1];
    const target = path.posix.join(appDir, pkg.bin?.['boss-ingest'] ?? 'dist/src/cli/main.js');

    for (const what of ['dist', 'node_modules', 'package.json']) {
      assert.ok(
        runtime.instructions.some((i) => /^COPY\s/i.test(i) && i.includes(what)),
        `runtime stage does not COPY ${what}`,
      );
    }

    const escaped = target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const link = new RegExp(`ln\\s+-s\\w*\\s+${escaped}\\s+/usr/(local/)?bin/boss-ingest\\b`);
    const npmLink = /\bnpm\s+(link|install\s+-g\s+\.)/;
    assert.ok(
      link.test(body) || npmLink.test(body),
      `runtime stage must put boss-ingest on PATH: expected "ln -s ${target} /usr/local/bin/boss-ingest"`,
    );

    const users = runtime.instructions.filter((i) => /^USER\s/i.test(i));
    assert.ok(users.length > 0, 'runtime stage has no USER: the worker would run as root');
    assert.doesNotMatch(users[users.length - 1], /^USER\s+(root|0)\b/i, 'runtime stage runs as root');

    const cmd = runtime.instructions.filter((i) => /^CMD\s/i.test(i)).pop();
    assert.ok(cmd, 'runtime stage has no CMD');
    assert.match(
      cmd,
      /"boss-ingest"\s*,\s*"worker"/,
      `default CMD must be ["boss-ingest","worker"], got ${cmd}`,
    );
  });

  it('the build stage copies every script npm run build runs, and can compile the native decoder', function () {
    const scripts = (JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts;
    const used = [...scripts.build!.matchAll(/node (scripts\/[\w.-]+)/g)].map((m) => m[1]!);
    assert.ok(used.length > 0, `no script in npm run build: ${scripts.build}`);
    const build = dockerfileStages(readRepoFile('Dockerfile'))[0]!.instructions;
    const copies = build.filter((i) => /^COPY\s/i.test(i)).join('\n');
    for (const script of used)
      assert.ok(
        copies.includes(script) || /\bCOPY\s+scripts\/?\s/.test(copies),
        `the build stage runs npm run build, which runs ${script}, but does not COPY it`,
      );
    const body = build.join('\n');
    for (const pkgName of ['gcc', 'libjpeg62-turbo-dev', 'libdeflate-dev'])
      assert.match(
        body,
        new RegExp(`apt-get install[^\n]*\\b${pkgName}\\b`),
        `the build stage does not install ${pkgName}`,
      );
  });

  it('the CLI entry point has a node shebang (needed for the symlink and for npm bin)', () => {
    const main = path.join(ROOT, 'src', 'cli', 'main.ts');
    assert.ok(existsSync(main), 'src/cli/main.ts exists');
    const first = readFileSync(main, 'utf8').split('\n', 1)[0];
    assert.equal(first, '#!/usr/bin/env node', 'src/cli/main.ts must start with "#!/usr/bin/env node"');
  });
});

describe('docker-compose.yml matches the cluster the tests run (npm run cluster)', function () {
  const tag = (svc: Service) => (svc.image ?? '').split(':').pop() ?? '';

  it('runs the versions the cluster builds: server, admin tools, UI, PostgreSQL major', function () {
    const { services } = loadCompose();
    assert.equal(
      tag(services.temporal),
      TEMPORAL_SERVER_VERSION,
      'temporal image tag vs src/cluster/components.ts',
    );
    assert.equal(tag(services['temporal-ui']), TEMPORAL_UI_VERSION, 'temporal-ui image tag');
    for (const [name, svc] of Object.entries(services).filter(([, s]) =>
      s.image?.startsWith('temporalio/admin-tools'),
    ))
      assert.ok(tag(svc).startsWith(`${TEMPORAL_SERVER_VERSION}-`), `${name} runs admin-tools ${tag(svc)}`);
    assert.equal(
      tag(services.postgresql).split('.')[0],
      String(POSTGRES_MAJOR),
      'postgres image major version',
    );
    assert.match(TEMPORAL_CLI_VERSION, /^1\.5\./, 'the CLI whose dev server embeds server 1.29');
  });

  it("gives the server the cluster's database settings (x-temporal-db-env)", function () {
    const { services } = loadCompose();
    const composeEnv = envOf(services.temporal);
    const ours = serverEnvironment(DEFAULT_POSTGRES_PORT);
    // Only the addresses differ: compose names its services, the cluster runs on 127.0.0.1.
    for (const key of ['DB', 'DB_PORT', 'POSTGRES_USER', 'POSTGRES_PWD'] as const)
      assert.equal(composeEnv[key], ours[key], `temporal ${key}`);
    assert.equal(composeEnv.POSTGRES_SEEDS, 'postgresql');
    const db = envOf(services.postgresql);
    assert.equal(db.POSTGRES_USER, POSTGRES_USER);
    assert.equal(db.POSTGRES_PASSWORD, POSTGRES_PASSWORD);
  });

  it('applies the schema as the cluster does and registers the same namespace', function () {
    const { services } = loadCompose();
    const script = commandWords(services['temporal-admin-tools'].command).join(' ');
    for (const step of ['--plugin postgres12', 'create', 'setup-schema -v 0.0', 'update-schema -d'])
      assert.ok(script.includes(step), `the schema job runs ${step}, as src/cluster/cluster.ts does`);
    assert.match(script, /postgresql\/v12/, 'the v12 PostgreSQL schemas the cluster copies');
    assert.equal(envOf(services['temporal-create-namespace']).NAMESPACE, NAMESPACE);
    assert.equal(envOf(services.worker).TEMPORAL_NAMESPACE, NAMESPACE);
  });

  it("publishes the cluster's default ports", function () {
    const { services } = loadCompose();
    const published = (svc: Service) => (svc.ports ?? []).map((p) => Number(String(p).split(':')[0]));
    assert.deepEqual(published(services.temporal), [DEFAULT_SERVER_PORTS.frontend]);
    assert.deepEqual(published(services['temporal-ui']), [DEFAULT_UI_PORT]);
    assert.equal(envOf(services.temporal).DB_PORT, String(DEFAULT_POSTGRES_PORT));
  });

  it('workers expose metrics that Prometheus scrapes and the mounted Grafana dashboard shows', function () {
    const { services } = loadCompose();
    const words = commandWords(services.worker.command);
    const port = words[words.indexOf('--metrics-port') + 1];
    assert.ok(
      words.includes('--metrics-port') && port,
      `worker runs with --metrics-port: ${words.join(' ')}`,
    );
    const prometheus = parse(readRepoFile('prometheus/prometheus.yml')) as {
      scrape_configs: { dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((c) => c.dns_sd_configs ?? []);
    assert.ok(
      targets.some((t) => t.names.includes('worker') && String(t.port) === port),
      `Prometheus scrapes worker:${port}: ${JSON.stringify(targets)}`,
    );
    const mounts = (services.grafana.volumes ?? []).map(parseVolume);
    assert.ok(
      mounts.some((m) => m.source === './grafana/dashboard.json'),
      'grafana mounts grafana/dashboard.json',
    );
    const dashboard = JSON.parse(readRepoFile('grafana/dashboard.json')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const name of new Set(exprs.match(/\bboss_ingest_[a-z_]+\b/g)))
      assert.ok(
        name in COUNTERS,
        `the dashboard queries ${name}, which src/metrics/counters.ts does not define`,
      );
    for (const name of Object.keys(COUNTERS)) assert.ok(exprs.includes(name), `the dashboard shows ${name}`);
  });
});
