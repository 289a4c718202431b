/** The original client's command line, mapped onto ours. */

const SUBCOMMANDS = [
  'run',
  'start',
  'worker',
  'status',
  'cancel',
  'validate',
  'verify',
  'prep',
  'downsample',
  'service',
  'help',
];
/** Options of the original client that take a value. */
const VALUE_OPTIONS = [
  '-j',
  '--job-id',
  '-a',
  '--api-token',
  '-l',
  '--log-file',
  '-v',
  '--log-level',
  '-p',
  '--processes',
  '--address',
  '--namespace',
  '--reason',
  '--metrics-port',
];

/** Maps the original client's spellings onto the subcommands. */
export function normaliseArgs(args: string[]): string[] {
  const out = args.map((a) => a.replace(/^--processes_nb(?==|$)/, '--processes'));
  if (out.length === 0 || SUBCOMMANDS.includes(out[0]!)) return out;
  if (out.includes('-c') || out.includes('--cancel')) {
    // `[CONFIG] -c -j ID`: the original took the config file too; cancelling needs only the id.
    const rest = out.filter((a) => a !== '-c' && a !== '--cancel');
    const kept = rest.filter((a, i) => a.startsWith('-') || (i > 0 && VALUE_OPTIONS.includes(rest[i - 1]!)));
    return ['cancel', ...kept];
  }
  const helpOnly =
    out.every((a) => a.startsWith('-')) && out.some((a) => ['--help', '-h', '-V', '--version'].includes(a));
  return helpOnly ? out : ['run', ...out];
}
