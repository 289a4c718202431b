/**
 * A program left running in the background after the command that started it returns: its pid in
 * a file, its output in a log file. Stopping checks that the pid still belongs to that program.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/** Without /proc (macOS), a live pid is all that can be checked. */
const HAS_PROC = existsSync('/proc/self/stat');

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Daemon {
  constructor(
    readonly name: string,
    readonly program: string,
    readonly pidFile: string,
    readonly logFile: string,
  ) {}

  /** The pid of the running program, if the pid file names a live process running it. */
  pid(): number | undefined {
    if (!existsSync(this.pidFile)) return undefined;
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    if (!HAS_PROC) return signalable(pid) ? pid : undefined;
    try {
      // A recycled pid would run something else: compare the program, not just the number.
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
      return argv0 === this.program ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  get running(): boolean {
    return this.pid() !== undefined;
  }

  start(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number {
    const existing = this.pid();
    if (existing) return existing;
    const log = openSync(this.logFile, 'a');
    try {
      const child = spawn(this.program, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ['ignore', log, log],
      });
      child.unref();
      if (!child.pid) throw new Error(`${this.name} (${this.program}) did not start`);
      writeFileSync(this.pidFile, `${child.pid}\n`);
      return child.pid;
    } finally {
      closeSync(log);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 30_000): Promise<void> {
    const pid = this.pid();
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (this.alive(pid) && Date.now() < deadline) await sleep(100);
      if (this.alive(pid)) process.kill(pid, 'SIGKILL');
      while (this.alive(pid)) await sleep(50);
    }
    rmSync(this.pidFile, { force: true });
  }

  private alive(pid: number): boolean {
    if (!HAS_PROC) return signalable(pid);
    try {
      // A zombie (exited, not yet reaped by its parent) counts as gone.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  }

  /** The end of the log, for error messages: its last lines, each cut short (stack traces are long). */
  tail(lines = 8): string {
    if (!existsSync(this.logFile)) return '';
    const all = readFileSync(this.logFile, 'utf8').trimEnd().split('\n');
    return all
      .slice(-lines)
      .map((l) => (l.length > 400 ? `${l.slice(0, 400)}...` : l))
      .join('\n');
  }
}
