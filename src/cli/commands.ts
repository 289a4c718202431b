/**
 * The actions behind each subcommand; each returns the process exit code. What only some commands
 * use (the Temporal SDK, the tile and Boss checks) is imported where it is used: a command loads
 * only its own modules, and `run` starts its server and workers before it loads the SDK's client.
 */
import { createInterface } from 'node:readline/promises';
import { loadConfigFile, withMultiscale, withZarrOutput } from '../config/load.js';
import type { Datatype, JobConfig } from '../config/types.js';
import { progressLine } from '../job/progress.js';
import { installLogger, installSdkLogger, defaultLogFile, parseLogLevel } from '../log/logger.js';
import {
  installedTemporalCli,
  isLocalAddress,
  NoServerError,
  serverAnswers,
  startEmbeddedServer,
  type EmbeddedServer,
} from '../server/embedded.js';
import { jobExtent } from '../config/job.js';
import { tileCount, tileRange } from '../extent/tiles.js';
import { serveMetrics, sdkMetricsAddress } from '../metrics/endpoint.js';
import { spawnWorkers } from '../worker/processes.js';
import { EXIT, UsageError } from './exit.js';
import { newJobId } from './job-id.js';
import type { JobHandle } from './jobs.js';
import { jobStart, type JobStart } from './job-start.js';
import type { ServiceLink } from '../service/link.js';
import { printOutcome, progressView, type Outcome } from './progress-view.js';

export interface ConnectionOpts {
  address: string;
  namespace: string;
  logFile?: string;
  logLevel: string;
}

interface JobOpts extends ConnectionOpts {
  jobId?: string;
  output?: string;
  datatype?: Datatype;
  multiscale?: boolean;
  taskQueue: string;
  apiToken?: string;
  force?: boolean;
  downsample?: boolean;
}

export function setUpLog(opts: ConnectionOpts): string {
  let level;
  try {
    level = parseLogLevel(opts.logLevel);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const file = opts.logFile ?? defaultLogFile();
  installLogger(file, level);
  return file;
}

/** `--metrics-port`: the first worker process's; the next ones serve on the ports after it. */
function metricsPort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`--metrics-port must be a TCP port from 1 to 65535, not ${JSON.stringify(value)}`);
  return n;
}

export function processCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new UsageError(`-p/--processes must be a whole number from 1 to 256, not ${JSON.stringify(value)}`);
  return n;
}

/**
 * The config as it will be submitted: `--output` replaces the destination, `--downsample` sets
 * the Boss's, `--multiscale` asks for a pyramid.
 */
async function jobConfig(
  file: string,
  opts: { output?: string; datatype?: Datatype; downsample?: boolean; multiscale?: boolean },
): Promise<JobConfig> {
  let config = await loadConfigFile(file);
  if (opts.output) config = withZarrOutput(config, opts.output, opts.datatype);
  else if (opts.datatype) throw new UsageError('--datatype goes with --output');
  if (opts.downsample) {
    const backend = config.client.backend;
    if (backend.name !== 'boss') throw new UsageError('--downsample needs a Boss destination');
    config = { ...config, client: { ...config.client, backend: { ...backend, downsample: true } } };
  }
  if (opts.multiscale) config = withMultiscale(config);
  return config;
}

function summary(config: JobConfig): string {
  const { extent, tile_size: size } = config.ingest_job;
  const plugin = (p?: { class: string; params?: object }) =>
    p ? `${p.class} ${JSON.stringify(p.params ?? {})}` : '-';
  const source = size
    ? [
        `  tile processor: ${plugin(config.client.tile_processor)}`,
        `  tiles:          ${tileCount(tileRange(extent, size))}`,
      ]
    : [`  chunk processor: ${plugin(config.client.chunk_processor)}`];
  return [
    `  collection/experiment/channel: ${config.database.collection}/${config.database.experiment}/${config.database.channel}`,
    `  path processor: ${plugin(config.client.path_processor)}`,
    `  destination:    ${JSON.stringify(config.client.backend)}`,
    `  extent:         ${JSON.stringify(extent)}`,
    ...source,
  ].join('\n');
}

/** The original client's summary-and-confirm step; skipped with -f or when stdin is not a terminal. */
async function confirm(config: JobConfig, force: boolean | undefined): Promise<boolean> {
  console.error(`About to create an ingest job:\n${summary(config)}`);
  if (force || !process.stdin.isTTY) return true;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('Continue? [y/N] ');
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

/** The server at the address, or an embedded dev server when none answers at a local address. */
export async function ensureServer(opts: ConnectionOpts): Promise<EmbeddedServer | undefined> {
  if (await serverAnswers(opts.address)) return undefined;
  if (!isLocalAddress(opts.address))
    throw new NoServerError(opts.address, 'it is not a local address, so none is started here');
  console.error(`No Temporal server at ${opts.address}: starting an embedded dev server...`);
  // Without a CLI on this machine the SDK may download one: its lines go to our log, as a worker's.
  if (!installedTemporalCli()) await installSdkLogger();
  const server = await startEmbeddedServer({ address: opts.address, namespace: opts.namespace });
  console.error(`Embedded Temporal dev server at ${server.address}, Web UI ${server.uiUrl}`);
  return server;
}

function uiLink(uiUrl: string, namespace: string, jobId: string): void {
  console.error(
    `Job in the Temporal Web UI: ${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(jobId)}`,
  );
}

/** `-p` and `--metrics-port`, checked before anything else is done. */
export function workerCounts(opts: WorkerOpts): { processes: number; firstMetricsPort?: number } {
  return { processes: processCount(opts.processes), firstMetricsPort: metricsPort(opts.metricsPort) };
}

type WorkerOpts = ConnectionOpts & {
  taskQueue: string;
  apiToken?: string;
  processes: string;
  metricsPort?: string;
};

export async function runCommand(
  file: string,
  opts: JobOpts & { processes: string; metricsPort?: string; verify?: boolean },
): Promise<number> {
  const workers = workerCounts(opts);
  const config = await jobConfig(file, opts);
  const jobId = opts.jobId ?? newJobId(config);
  console.log(`job id: ${jobId}`);
  if (!opts.jobId && !(await confirm(config, opts.force))) {
    console.error('Not started.');
    return EXIT.completed;
  }
  return withLocalWorkers(opts, workers, async (follow) => {
    const outcome = await follow(
      `boss-ingest run ${file} -j ${jobId}`,
      jobStart(config, jobId, opts.taskQueue),
    );
    printOutcome(jobId, outcome);
    if (!opts.verify) return outcome.code;
    if (outcome.result?.state !== 'completed') {
      console.log(`not verified: job ${jobId} did not complete without errors`);
      return outcome.code;
    }
    // The job's own verify: one per job id, verified again when the command runs again.
    const verifyId = `${jobId}-verify`;
    const verified = await follow(
      `boss-ingest verify ${file} -j ${verifyId}`,
      jobStart(config, verifyId, opts.taskQueue, 'verify'),
    );
    printOutcome(verifyId, verified, 'verify');
    return verified.code;
  });
}

/** `verify`: compares the config's chunks, read again from the source, with the destination's. */
export async function verifyCommand(
  file: string,
  opts: WorkerOpts & { jobId?: string; output?: string; datatype?: Datatype },
): Promise<number> {
  const workers = workerCounts(opts);
  const config = await jobConfig(file, opts);
  const jobId = opts.jobId ?? `${newJobId(config)}-verify`;
  console.log(`job id: ${jobId}`);
  return withLocalWorkers(opts, workers, async (follow) => {
    const outcome = await follow(
      `boss-ingest verify ${file} -j ${jobId}`,
      jobStart(config, jobId, opts.taskQueue, 'verify'),
    );
    printOutcome(jobId, outcome, 'verify');
    return outcome.code;
  });
}

/** Starts or joins a job and follows it to its end; `resume` is the command that picks it up again after a Ctrl-C. */
export type FollowJob = (resume: string, start: JobStart) => Promise<Outcome>;

/**
 * Runs `body` with a server and this node's workers: at a local address where no other server
 * runs, the local service's (src/service: started when none fits, kept warm for the next
 * command); else (or with `BOSS_INGEST_KEEP_WARM=0`) the command's own worker processes, which
 * stop when it returns, on the address's server or an embedded one. A job whose workers exit
 * under it ends the command.
 */
export async function withLocalWorkers(
  opts: WorkerOpts,
  { processes, firstMetricsPort }: ReturnType<typeof workerCounts>,
  body: (follow: FollowJob) => Promise<number>,
): Promise<number> {
  const logFile = setUpLog(opts);
  const { localService } = await import('../service/link.js');
  const settings = {
    address: opts.address,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    processes,
    logLevel: opts.logLevel,
    logFile: opts.logFile,
    metricsPort: firstMetricsPort,
  };
  const local = await localService(settings, opts.apiToken, (line) => console.error(line));
  if (local && 'link' in local && local.started && local.link.hello.ui)
    console.error(`Embedded Temporal dev server at ${opts.address}, Web UI ${local.link.hello.ui}`);
  if (local && 'link' in local) return withService(local.link, opts, body);
  try {
    return await withOwnWorkers(opts, { processes, firstMetricsPort }, logFile, body);
  } finally {
    local?.release();
  }
}

/** The command follows its jobs through the local service; a Ctrl-C stops the service's workers. */
async function withService(
  link: ServiceLink,
  opts: WorkerOpts,
  body: (follow: FollowJob) => Promise<number>,
): Promise<number> {
  let interrupted = false;
  let current = '';
  const onSignal = () => {
    interrupted = true;
    console.error(`\nInterrupted: stopping this node's workers (the local service). ${current}`);
    void link.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body(async (resume, start) => {
      current = `Job ${start.workflowId} keeps what it did; resume with: ${resume}`;
      if (link.hello.ui) uiLink(link.hello.ui, opts.namespace, start.workflowId);
      return await link.follow(start, progressView());
    });
  } catch (err) {
    if (interrupted) {
      await link.closed;
      return EXIT.interrupted;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    link.close();
  }
}

/** The command's own worker processes, on the address's server or an embedded one. */
async function withOwnWorkers(
  opts: WorkerOpts,
  { processes, firstMetricsPort }: ReturnType<typeof workerCounts>,
  logFile: string,
  body: (follow: FollowJob) => Promise<number>,
): Promise<number> {
  // The workers start while the server does (they wait for it), not after: it halves a small job's time.
  const workers = spawnWorkers({
    ...opts,
    processes,
    logFile,
    logLevel: opts.logLevel,
    metricsPort: firstMetricsPort,
  });
  // The SDK's client loads while the server and the workers start.
  const jobs = import('./jobs.js');
  let server: EmbeddedServer | undefined;
  try {
    server = await ensureServer(opts);
  } catch (err) {
    await workers.stop();
    throw err;
  }
  const stopped = new Promise<'stopped'>((resolve) => {
    workers.exited.then(() => resolve('stopped'));
  });
  let interrupted = false;
  let current = '';
  const onSignal = () => {
    interrupted = true;
    console.error(`\nInterrupted: stopping this node's workers. ${current}`);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { connectClient, followJob, startJob } = await jobs;
    const client = await connectClient(opts.address, opts.namespace);
    return await body(async (resume, start) => {
      current = `Job ${start.workflowId} keeps what it did; resume with: ${resume}`;
      const handle = await startJob(client, start);
      if (server) uiLink(server.uiUrl, opts.namespace, start.workflowId);
      const outcome = await Promise.race([followJob(handle), stopped]);
      if (outcome !== 'stopped') return outcome;
      if (interrupted) throw new Interrupted();
      throw new Error(
        `the worker processes exited before job ${start.workflowId} ended; see the log ${logFile}`,
      );
    });
  } catch (err) {
    if (err instanceof Interrupted) return EXIT.interrupted;
    throw err;
  } finally {
    await workers.stop();
    // Nothing uses the server any more, and all it holds is in its database: no drain to wait for.
    await server?.kill();
  }
}

/** The user stopped this node's workers while it followed a job. */
class Interrupted extends Error {}

export async function startCommand(file: string, opts: JobOpts & { wait?: boolean }): Promise<number> {
  const config = await jobConfig(file, opts);
  const jobId = opts.jobId ?? newJobId(config);
  console.log(`job id: ${jobId}`);
  setUpLog(opts);
  if (!opts.jobId && !(await confirm(config, opts.force))) return EXIT.completed;
  if (!(await serverAnswers(opts.address)))
    throw new NoServerError(opts.address, '`start` needs a running server; `run` starts one');
  const { connectClient, followJob, startJob } = await import('./jobs.js');
  const client = await connectClient(opts.address, opts.namespace);
  const handle = await startJob(client, jobStart(config, jobId, opts.taskQueue));
  if (!opts.wait) return EXIT.completed;
  const outcome = await followJob(handle);
  printOutcome(jobId, outcome);
  return outcome.code;
}

export async function workerCommand(
  opts: ConnectionOpts & { processes: string; taskQueue: string; metricsPort?: string },
): Promise<number> {
  const processes = processCount(opts.processes);
  const port = metricsPort(opts.metricsPort);
  if (processes === 1) {
    const sdkAddress = port === undefined ? undefined : await sdkMetricsAddress();
    setUpLog(opts);
    await installSdkLogger(sdkAddress);
    const { runWorker } = await import('../worker/worker.js');
    const endpoint = port === undefined ? undefined : await serveMetrics(port, sdkAddress!);
    try {
      await runWorker(opts);
    } finally {
      await endpoint?.close();
    }
    return EXIT.completed;
  }
  const logFile = setUpLog(opts);
  const workers = spawnWorkers({ ...opts, processes, logFile, logLevel: opts.logLevel, metricsPort: port });
  const forward = (signal: NodeJS.Signals) => () =>
    workers.children.forEach((c) => c.exitCode === null && c.kill(signal));
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  await workers.exited;
  return EXIT.completed;
}

async function existingJob(
  opts: ConnectionOpts & { jobId: string },
): Promise<{ handle: JobHandle; status: string }> {
  const { WorkflowNotFoundError } = await import('@temporalio/client');
  const { connectClient } = await import('./jobs.js');
  const client = await connectClient(opts.address, opts.namespace);
  const handle: JobHandle = client.workflow.getHandle(opts.jobId);
  try {
    return { handle, status: (await handle.describe()).status.name };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new UsageError(`no job with id ${JSON.stringify(opts.jobId)} in namespace ${opts.namespace}`);
    throw err;
  }
}

export async function statusCommand(
  opts: ConnectionOpts & { jobId: string; json?: boolean },
): Promise<number> {
  const { handle, status } = await existingJob(opts);
  const { jobOutcome, queryProgress } = await import('./jobs.js');
  const progress =
    status === 'RUNNING'
      ? await queryProgress(handle)
      : ((await jobOutcome(handle)).result ?? (await queryProgress(handle)));
  if (opts.json) {
    console.log(JSON.stringify({ jobId: opts.jobId, status, progress: progress ?? null }, null, 2));
  } else {
    console.log(`job ${opts.jobId}: ${status}`);
    console.log(progress ? progressLine(progress) : '(no progress available: no worker answered)');
    for (const f of progress?.failures ?? [])
      console.log(`  chunk ${f.chunk}: ${f.file ? `${f.file}: ` : ''}${f.reason}`);
    if (progress?.error) console.log(`error: ${progress.error}`);
  }
  return EXIT.completed;
}

export async function cancelCommand(
  opts: ConnectionOpts & { jobId: string; reason?: string },
): Promise<number> {
  const { handle, status } = await existingJob(opts);
  if (status !== 'RUNNING') {
    console.log(`job ${opts.jobId} is not running (${status}); nothing to cancel`);
    return EXIT.errors;
  }
  const { jobOutcome } = await import('./jobs.js');
  const { cancelSignal } = await import('../workflows/messages.js');
  // The signal records the reason; Temporal's cancel then ends the execution as Canceled.
  await handle.signal(cancelSignal, opts.reason ?? 'cancelled from the command line');
  await handle.cancel();
  console.log(`cancel requested for job ${opts.jobId}; waiting for in-flight work to stop...`);
  const outcome = await Promise.race([
    jobOutcome(handle),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000)),
  ]);
  console.log(
    outcome
      ? `job ${opts.jobId} ${outcome.message}`
      : `job ${opts.jobId} is still stopping; check with boss-ingest status -j ${opts.jobId}`,
  );
  return EXIT.completed;
}

export async function validateCommand(
  file: string,
  opts: { output?: string; datatype?: Datatype; apiToken?: string },
): Promise<number> {
  let config = await loadConfigFile(file);
  if (opts.output) config = withZarrOutput(config, opts.output, opts.datatype);
  console.log(`${file}: config OK`);
  let report: { datatype?: Datatype; ok: boolean };
  if (config.ingest_job.ingest_type === 'volumetric') {
    const { validateVolume } = await import('../volumes/validate.js');
    const volume = await validateVolume(config);
    for (const p of volume.problems) console.log(`${p.file}: ${p.reason}`);
    console.log(
      `source ${volume.source ?? 'not opened'}, datatype ${volume.datatype ?? 'unknown'}, ${volume.problems.length} problem(s)`,
    );
    report = { datatype: volume.datatype, ok: volume.problems.length === 0 };
  } else {
    const tiles = await validateTileJob(config);
    if (tiles === undefined) return EXIT.errors;
    report = tiles;
  }
  let ok = report.ok;
  if (config.client.backend.name === 'boss') {
    const { BossError } = await import('../boss/api.js');
    const { bossPreflight, PreflightError } = await import('../boss/preflight.js');
    const { MissingTokenError } = await import('../boss/token.js');
    try {
      // Reads only: a write would reset the channel's downsample status and count against the quota.
      const source = report.datatype === 'uint64' ? undefined : report.datatype;
      const { checks } = await bossPreflight(config, config.client.backend, jobExtent(config), source, {
        token: opts.apiToken,
        writeProbe: false,
      });
      console.log(`Boss preflight passed: ${checks.join(', ')}`);
    } catch (err) {
      if (!(err instanceof PreflightError || err instanceof BossError || err instanceof MissingTokenError))
        throw err;
      console.log(`Boss preflight: ${err.message}`);
      ok = false;
    }
  }
  return ok ? EXIT.completed : EXIT.errors;
}

/** validate's tile-job part: streams every tile's checks; undefined when the extent does not fit the source. */
async function validateTileJob(config: JobConfig): Promise<{ datatype?: Datatype; ok: boolean } | undefined> {
  let shown = 0;
  const progress = (checked: number, total: number) => {
    // A line every few seconds off a terminal, so a long validate shows it is alive in a log too.
    const now = Date.now();
    if (process.stderr.isTTY) process.stderr.write(`\rchecked ${checked}/${total} tiles`);
    else if (now - shown > 5000 || checked === total) {
      shown = now;
      process.stderr.write(`checked ${checked}/${total} tiles\n`);
    }
  };
  const { validateTiles } = await import('../validate/tiles.js');
  const tiles = await validateTiles(config, {
    onProblem: (p) => {
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      console.log(`${p.file}: ${p.reason}`);
    },
    onProgress: progress,
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  for (const gap of tiles.gaps) console.log(gap);
  if (tiles.gaps.length > 0) {
    console.log(
      `ingest_job.extent does not fit the source: ${tiles.tiles} tiles in the extent, not read one by one; ` +
        'check ingest_job.extent and root_dir (for a sparse stack set engine.max_failed_fraction to 1)',
    );
    return undefined;
  }
  const more = tiles.problemCount - tiles.problems.length;
  if (more > 0) console.log(`... and ${more} more problem(s) not listed`);
  console.log(
    `${tiles.tiles} tiles checked, datatype ${tiles.datatype ?? 'unknown'}, ${tiles.problemCount} problem(s)`,
  );
  return { datatype: tiles.datatype, ok: tiles.problemCount === 0 };
}

export async function prepCommand(file: string, opts: { apiToken?: string }): Promise<number> {
  const { BossError } = await import('../boss/api.js');
  const { loadResources, prepResources } = await import('../boss/prep.js');
  const { MissingTokenError } = await import('../boss/token.js');
  let resources;
  try {
    resources = await loadResources(file);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  try {
    await prepResources(resources, opts.apiToken, (step) => console.log(`${step.resource}: ${step.action}`));
  } catch (err) {
    if (!(err instanceof BossError || err instanceof MissingTokenError)) throw err;
    console.error(`boss-ingest prep: ${err.message}`);
    return EXIT.errors;
  }
  return EXIT.completed;
}
