// Static checks of the deployment files (docker-compose.yml, Dockerfile): no Docker engine is
// needed, so these run everywhere `npm test` runs.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

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

  it('the CLI entry point has a node shebang (needed for the symlink and for npm bin)', () => {
    const main = path.join(ROOT, 'src', 'cli', 'main.ts');
    assert.ok(existsSync(main), 'src/cli/main.ts exists');
    const first = readFileSync(main, 'utf8').split('\n', 1)[0];
    assert.equal(first, '#!/usr/bin/env node', 'src/cli/main.ts must start with "#!/usr/bin/env node"');
  });
});
