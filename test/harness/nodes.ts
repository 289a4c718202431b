/**
 * Worker nodes and a client for tests that run jobs across several processes: each worker gets a
 * home and working directory of its own (a "node"), `start --wait` follows the job, and a timeout
 * reports where the job stood and what every worker said.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { JobResult } from '../../src/job/types.js';
import { cli, type RunningCli } from './env.js';
import { identityOf, isAlive, JobProbe, Processes, waitFor, within } from './durability.js';
import { THREADS, type Status } from './synthetic-job.js';
import { writeConfig } from './config.js';

export function output(p: RunningCli): string {
  return `--- stdout\n${p.stdout()}\n--- stderr\n${p.stderr()}`;
}

export class Nodes {
  readonly procs = new Processes();
  /** The home directory of each worker, for its log when something times out. */
  private readonly homes = new Map<RunningCli, string>();

  constructor(
    readonly dir: string,
    readonly address: string,
  ) {}

  /** A fresh directory under the test's own. */
  subdir(name: string): string {
    return mkdtempSync(path.join(this.dir, `${name}-`));
  }

  writeConfig(name: string, config: object): string {
    return writeConfig(this.dir, name, config);
  }

  /** `boss-ingest worker` with a home (and working directory) of its own. */
  startWorker(name: string, args: string[] = []): RunningCli {
    const home = this.subdir(name);
    const worker = this.procs.spawn(['worker', '--address', this.address, '-v', 'info', ...args], home, {
      BOSS_INGEST_THREADS: String(THREADS),
    });
    this.homes.set(worker, home);
    return worker;
  }

  /** `boss-ingest start CONFIG --wait`: submits the job and follows it; exits with the job's code. */
  startJob(config: string): RunningCli {
    return this.procs.spawn(
      ['start', config, '--wait', '-f', '--address', this.address],
      this.subdir('client'),
    );
  }

  /** What the workers said: their output and the end of their log files. */
  report(): string {
    return [...this.homes]
      .map(([w, home]) => {
        const logs = readdirSync(home)
          .filter((f) => f.endsWith('.log'))
          .map((f) => readFileSync(path.join(home, f), 'utf8').split('\n').slice(-15).join('\n'));
        return `worker ${identityOf(w)} (${isAlive(w) ? 'running' : `exited ${w.child.exitCode ?? w.child.signalCode}`})\n${output(w)}\n--- log\n${logs.join('\n')}`;
      })
      .join('\n');
  }

  /** The CLI's exit code; on a timeout, the error shows its output and where the job stands. */
  async exitOf(p: RunningCli, ms: number, what: string, jobId: string): Promise<number | null> {
    try {
      return await within(p.exited, ms, what);
    } catch (err) {
      const q = new JobProbe(this.address);
      const [progress, pending] = [await q.progress(jobId), await q.pendingBatches(jobId)];
      await q.close();
      throw new Error(
        `${(err as Error).message}\nprogress: ${JSON.stringify(progress)}\npending: ${JSON.stringify(pending)}\n${output(p)}\n${this.report()}`,
        { cause: err },
      );
    }
  }

  /** `boss-ingest status --json`. */
  async status(jobId: string): Promise<Status> {
    const res = await cli(
      ['status', '-j', jobId, '--json', '--address', this.address],
      this.subdir('status'),
    );
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as Status;
  }

  /** Waits until the job has written chunks but is not done: the middle of the job. */
  async midJob(probe: JobProbe, jobId: string, total: number, atLeast = 1): Promise<JobResult> {
    let last: JobResult | undefined;
    const progress = await waitFor(`job ${jobId} to write its first chunks`, 90_000, async () => {
      last = (await probe.progress(jobId)) ?? last;
      return last && last.doneChunks >= atLeast ? last : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nlast progress: ${JSON.stringify(last)}\n${this.report()}`, {
        cause: err,
      });
    });
    assert.ok(progress.doneChunks < total, `the job is still running (${progress.doneChunks}/${total})`);
    return progress;
  }

  async killAll(): Promise<void> {
    await this.procs.killAll();
    this.homes.clear();
  }
}
