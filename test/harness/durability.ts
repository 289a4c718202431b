/**
 * Helpers for durability tests: a dev server that can be stopped and started again on the same
 * port and SQLite file, a probe that reads a job's progress and pending activities without
 * retrying through outages, a registry that kills every spawned process, and history readers.
 */
import { readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { ingestBatch } from '../../src/activities/ingest-batch.js';
import type { JobResult } from '../../src/job/types.js';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';
import { progressQuery } from '../../src/workflows/messages.js';
import { cliEnv, jobIdOf, REPO, serverPort, tempDir, type RunningCli } from './env.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves with the first truthy value `probe` gives, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Rejects with `what` when `promise` takes longer than `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A dev server whose SQLite file and port outlive it: `stop()` ends the server process and keeps
 * the file, `start()` brings it back on the same address with the same history.
 */
export class RestartableServer {
  private server: EmbeddedServer | undefined;

  private constructor(
    readonly address: string,
    readonly home: string,
    readonly dbFile: string,
  ) {}

  static async start(): Promise<RestartableServer> {
    const home = tempDir('restartable');
    const s = new RestartableServer(
      `127.0.0.1:${await serverPort()}`,
      home,
      path.join(home, 'temporal.sqlite'),
    );
    await s.start();
    return s;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.server = await startEmbeddedServer({
      address: this.address,
      namespace: 'default',
      dbFile: this.dbFile,
      ui: false,
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop();
  }

  /** Stops the server and deletes its files. */
  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** A pending activity of a job, as `temporal workflow describe` shows it. */
export interface PendingBatch {
  started: boolean;
  worker: string;
  attempt: number;
}

/**
 * Reads a job the way `boss-ingest status` does, but through one connection without gRPC retries,
 * so a call fails fast while the server is down instead of blocking a poll loop.
 */
export class JobProbe {
  private connection: Connection | undefined;

  constructor(readonly address: string) {}

  private async client(): Promise<Client> {
    this.connection ??= await Connection.connect({
      address: this.address,
      connectTimeout: '2s',
      interceptors: [],
    });
    return new Client({ connection: this.connection });
  }

  /** The job's progress query, or undefined when nothing answered within `timeoutMs`. */
  async progress(jobId: string, timeoutMs = 5000): Promise<JobResult | undefined> {
    try {
      const handle = (await this.client()).workflow.getHandle(jobId);
      return await within(handle.query(progressQuery), timeoutMs, 'progress query');
    } catch {
      await this.reset();
      return undefined;
    }
  }

  /** The job's pending batch activities, or undefined when the server did not answer. */
  async pendingBatches(jobId: string): Promise<PendingBatch[] | undefined> {
    try {
      const handle = (await this.client()).workflow.getHandle(jobId);
      const description = await within(handle.describe(), 5000, 'describe');
      return (description.raw.pendingActivities ?? [])
        .filter((a) => a.activityType?.name === ingestBatch.name)
        .map((a) => ({
          // PENDING_ACTIVITY_STATE_STARTED = 2
          started: Number(a.state) === 2,
          worker: a.lastWorkerIdentity ?? '',
          attempt: a.attempt ?? 1,
        }));
    } catch {
      await this.reset();
      return undefined;
    }
  }

  private async reset(): Promise<void> {
    const c = this.connection;
    this.connection = undefined;
    await c?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.reset();
  }
}

/** One started attempt of a batch activity, from the job's history. */
export interface BatchAttempt {
  first: number;
  end: number;
  /** The attempt that ran last (history keeps only the last attempt of each activity). */
  attempt: number;
  identity: string;
  /** Why the previous attempt ended: a failure type, or `timeout:HEARTBEAT` and the like. */
  lastFailure?: string;
}

function failureKind(f: {
  applicationFailureInfo?: { type?: string | null } | null;
  timeoutFailureInfo?: { timeoutType?: unknown } | null;
  message?: string | null;
}): string {
  if (f.applicationFailureInfo) return f.applicationFailureInfo.type ?? 'ApplicationFailure';
  if (f.timeoutFailureInfo) return `timeout:${String(f.timeoutFailureInfo.timeoutType)}`;
  return f.message ?? 'unknown';
}

/** Every run's history of the job, from the first: one per continue-as-new. */
async function runHistories(address: string, jobId: string) {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    // From the first run: the job id alone names the latest.
    const latest = await client.workflow.getHandle(jobId).fetchHistory();
    let runId: string | undefined =
      latest.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId ?? undefined;
    const histories = [];
    for (;;) {
      const history = await client.workflow.getHandle(jobId, runId).fetchHistory();
      histories.push(history);
      const next = history.events?.find((e) => e.workflowExecutionContinuedAsNewEventAttributes);
      runId = next?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      if (!runId) return histories;
    }
  } finally {
    await connection.close();
  }
}

/** Every batch of the job that was started, with its last attempt, across continue-as-new runs. */
export async function batchAttempts(address: string, jobId: string): Promise<BatchAttempt[]> {
  const out: BatchAttempt[] = [];
  for (const history of await runHistories(address, jobId)) {
    const scheduled = new Map<string, { first: number; end: number }>();
    for (const e of history.events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a && a.activityType?.name === ingestBatch.name) {
        const input = defaultPayloadConverter.fromPayload(a.input!.payloads![0]!) as {
          first: number;
          end: number;
        };
        scheduled.set(String(e.eventId), { first: input.first, end: input.end });
      }
      const s = e.activityTaskStartedEventAttributes;
      const batch = s && scheduled.get(String(s.scheduledEventId));
      if (s && batch) {
        out.push({
          ...batch,
          attempt: s.attempt ?? 1,
          identity: s.identity ?? '',
          lastFailure: s.lastFailure ? failureKind(s.lastFailure) : undefined,
        });
      }
    }
  }
  return out;
}

/**
 * The job's activities scheduled (with their input) and completed (with their result), in the
 * order its history records them, across runs.
 */
export async function activityEvents(address: string, jobId: string): Promise<ActivityEvent[]> {
  const out: ActivityEvent[] = [];
  const decode = (payloads: { payloads?: unknown[] | null } | null | undefined): unknown => {
    const first = payloads?.payloads?.[0];
    return first
      ? defaultPayloadConverter.fromPayload(
          first as Parameters<typeof defaultPayloadConverter.fromPayload>[0],
        )
      : undefined;
  };
  for (const [run, history] of (await runHistories(address, jobId)).entries()) {
    const names = new Map<string, string>();
    for (const e of history.events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a) {
        names.set(String(e.eventId), a.activityType?.name ?? '');
        out.push({ run, event: 'scheduled', activity: a.activityType?.name ?? '', data: decode(a.input) });
      }
      const c = e.activityTaskCompletedEventAttributes;
      if (c)
        out.push({
          run,
          event: 'completed',
          activity: names.get(String(c.scheduledEventId)) ?? '',
          data: decode(c.result),
        });
    }
  }
  return out;
}

export interface ActivityEvent {
  run: number;
  event: 'scheduled' | 'completed';
  activity: string;
  /** A scheduled activity's input, a completed one's result. */
  data: unknown;
}

/** The Temporal identity of a worker process started by the tests (the SDK default). */
export function identityOf(running: RunningCli): string {
  return `${running.child.pid}@${os.hostname()}`;
}

export function isAlive(running: RunningCli): boolean {
  return running.child.exitCode === null && running.child.signalCode === null;
}

/** Every process a test file starts, so that `killAll` in `afterEach`/`after` leaves none behind. */
export class Processes {
  private all: RunningCli[] = [];

  /** `boss-ingest ARGS` in the background, with `home` as BOSS_INGEST_HOME and working directory. */
  spawn(args: string[], home: string, env?: NodeJS.ProcessEnv): RunningCli {
    const child = spawn(process.execPath, [path.join(REPO, 'dist', 'src', 'cli', 'main.js'), ...args], {
      cwd: home,
      env: cliEnv(home, env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let errText = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const running: RunningCli = { child, stdout: () => out, stderr: () => errText, exited };
    this.all.push(running);
    return running;
  }

  async killAll(): Promise<void> {
    const alive = this.all.filter(isAlive);
    this.all = [];
    for (const p of alive) p.child.kill('SIGKILL');
    await Promise.all(alive.map((p) => p.exited));
  }
}

/** The job id `start`/`run` print on their first line, once printed. */
export function waitForJobId(running: RunningCli, timeoutMs = 20_000): Promise<string> {
  return waitFor(`the job id on stdout of the CLI\n${running.stderr()}`, timeoutMs, () => {
    if (!isAlive(running) && !running.stdout().includes('\n'))
      throw new Error(`the CLI exited before printing the job id:\n${running.stdout()}\n${running.stderr()}`);
    try {
      return jobIdOf(running.stdout());
    } catch {
      return undefined;
    }
  });
}

/** Chunk files of a volume's array `0` (temporary files of interrupted writes excluded). */
export function chunkFiles(volume: string): string[] {
  let entries;
  try {
    entries = readdirSync(path.join(volume, '0', 'c'), { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && !e.name.endsWith('.tmp'))
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}
