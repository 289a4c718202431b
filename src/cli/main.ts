#!/usr/bin/env node
/**
 * The boss-ingest command line. `boss-ingest CONFIG` (no subcommand) is `run`, and `-c -j ID` is
 * `cancel`, as in the original client.
 */
import { Command, CommanderError, Option } from 'commander';
import { DATATYPES } from '../config/types.js';
import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE, VERSION } from '../defaults.js';
import { ConfigError } from '../errors.js';
import { normaliseArgs } from './args.js';
import { EXIT, UsageError } from './exit.js';

/** The commands, loaded once one is chosen: `--help` and a usage error load none of their modules. */
const commands = () => import('./commands.js');

const METRICS_OPTION = '--metrics-port <port>';
const METRICS_HELP =
  "serve Prometheus metrics (ours and the Temporal SDK's) at :PORT/metrics; with -p N, PORT..PORT+N-1";

function connectionOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--address <host:port>', 'Temporal server address')
        .env('TEMPORAL_ADDRESS')
        .default(DEFAULT_ADDRESS),
    )
    .addOption(
      new Option('--namespace <name>', 'Temporal namespace')
        .env('TEMPORAL_NAMESPACE')
        .default(DEFAULT_NAMESPACE),
    )
    .option('-l, --log-file <file>', 'log file (default ~/.boss-ingest/ingest_log<date>_pid<pid>.log)')
    .option('-v, --log-level <level>', 'log level: debug, info, warning, error', 'warning');
}

function jobOptions(cmd: Command): Command {
  return cmd
    .option('-j, --job-id <id>', 'job id: joins the running job with this id, or names the new one')
    .option('--output <path>', 'write a local OME-Zarr volume at PATH instead of the configured destination')
    .addOption(
      new Option(
        '--datatype <type>',
        'datatype of the --output volume (default: that of the first tile)',
      ).choices(DATATYPES),
    )
    .option(
      '--multiscale',
      'build a multiscale pyramid above the zarr volume (client.backend.multiscale, else levels auto, mean, anisotropic)',
    )
    .option('--task-queue <queue>', 'Temporal task queue', DEFAULT_TASK_QUEUE)
    .option('-a, --api-token <token>', 'Boss API token (handed to local workers only, never to Temporal)')
    .option('-f, --force', 'do not ask for confirmation before creating the job')
    .option('--downsample', "after the last chunk, run the Boss's downsample and wait for it")
    .option(
      '-m, --manual-complete',
      'accepted for compatibility with the original client; jobs complete on their own',
    );
}

function program(): Command {
  const root = new Command('boss-ingest')
    .description('Ingest image stacks into BossDB or a local OME-Zarr volume, as Temporal workflows')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError();

  jobOptions(
    connectionOptions(
      root.command('run').argument('<config>', 'job config file (original boss-ingest format)'),
    ),
  )
    .description('submit (or join) a job and run worker processes on this node until it ends')
    .option('-p, --processes <n>', 'worker processes on this node', '1')
    .option(METRICS_OPTION, METRICS_HELP)
    .option('--verify', 'after the job completes, verify what it stored against the source (see verify)')
    .action(async (config: string, opts) => {
      const { runCommand } = await commands();
      process.exitCode = await runCommand(config, opts);
    });

  connectionOptions(
    root.command('verify').argument('<config>', 'job config file: the source and destination to compare'),
  )
    .description(
      'read the source again and compare it chunk by chunk with the destination, with worker processes on this node; exit 1 when any chunk differs',
    )
    .option('-j, --job-id <id>', 'verify job id: joins the running verify with this id, or names the new one')
    .option('--output <path>', 'verify a local OME-Zarr volume at PATH instead of the configured destination')
    .addOption(
      new Option(
        '--datatype <type>',
        'datatype of the --output volume (default: that of the first tile)',
      ).choices(DATATYPES),
    )
    .option('--task-queue <queue>', 'Temporal task queue', DEFAULT_TASK_QUEUE)
    .option('-a, --api-token <token>', 'Boss API token (handed to local workers only, never to Temporal)')
    .option('-p, --processes <n>', 'worker processes on this node', '1')
    .option(METRICS_OPTION, METRICS_HELP)
    .action(async (config: string, opts) => {
      const { verifyCommand } = await commands();
      process.exitCode = await verifyCommand(config, opts);
    });

  jobOptions(connectionOptions(root.command('start').argument('<config>', 'job config file')))
    .description('submit a job (or attach to the running one) and print its id')
    .option('--wait', 'follow progress until the job ends (needs workers elsewhere)')
    .action(async (config: string, opts) => {
      const { startCommand } = await commands();
      process.exitCode = await startCommand(config, opts);
    });

  connectionOptions(root.command('worker'))
    .description('serve every job on the task queue from this node until SIGINT/SIGTERM')
    .option('-p, --processes <n>', 'worker processes on this node', '1')
    .option('--task-queue <queue>', 'Temporal task queue', DEFAULT_TASK_QUEUE)
    .option(METRICS_OPTION, METRICS_HELP)
    .action(async (opts) => {
      const { workerCommand } = await commands();
      process.exitCode = await workerCommand(opts);
    });

  connectionOptions(
    root.command('service').argument('<action>', 'status, stop, or serve (what `run` starts)'),
  )
    .description(
      'the local service `run` starts where no server answers: an embedded server and worker processes kept warm (BOSS_INGEST_KEEP_WARM seconds, default 600) for the next command',
    )
    .option('--task-queue <queue>', 'Temporal task queue (serve)', DEFAULT_TASK_QUEUE)
    .option('-p, --processes <n>', 'worker processes (serve)', '1')
    .option(METRICS_OPTION, METRICS_HELP)
    .action(async (action: string, opts) => {
      const { serviceCommand } = await import('./service.js');
      process.exitCode = await serviceCommand(action, opts);
    });

  connectionOptions(root.command('status'))
    .description("show a job's state and progress")
    .requiredOption('-j, --job-id <id>', 'job id')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const { statusCommand } = await commands();
      process.exitCode = await statusCommand(opts);
    });

  connectionOptions(root.command('cancel'))
    .description('cancel a job: no new chunk starts, in-flight work stops, what was written stays')
    .requiredOption('-j, --job-id <id>', 'job id')
    .option('--reason <text>', 'why, shown in the job')
    .action(async (opts) => {
      const { cancelCommand } = await commands();
      process.exitCode = await cancelCommand(opts);
    });

  connectionOptions(
    root.command('downsample').argument('<volume>', 'an OME-Zarr volume written by boss-ingest'),
  )
    .description(
      'build or rebuild the multiscale pyramid of a zarr volume, as a job run by workers on this node',
    )
    .option(
      '--levels <n>',
      'highest level: a number, or auto (the first level one chunk wide in x and y)',
      'auto',
    )
    .addOption(
      new Option('--method <method>', 'mean (images) or mode (labels)')
        .choices(['mean', 'mode'])
        .default('mean'),
    )
    .option('--isotropic', 'halve z too (default: x and y only)')
    .option('-j, --job-id <id>', 'job id: joins the running job with this id, or names the new one')
    .option('--task-queue <queue>', 'Temporal task queue', DEFAULT_TASK_QUEUE)
    .option('-p, --processes <n>', 'worker processes on this node', '1')
    .action(async (volume: string, opts) => {
      const { downsampleCommand } = await import('./downsample.js');
      process.exitCode = await downsampleCommand(volume, opts);
    });

  root
    .command('validate')
    .argument('<config>', 'job config file')
    .description('check the config, every source tile and the Boss destination (preflight), writing nothing')
    .option('--output <path>', 'check against a local OME-Zarr destination')
    .option('-a, --api-token <token>', 'Boss API token for the preflight')
    .addOption(new Option('--datatype <type>', 'datatype the tiles must fit').choices(DATATYPES))
    .action(async (config: string, opts) => {
      const { validateCommand } = await commands();
      process.exitCode = await validateCommand(config, opts);
    });
  root
    .command('prep')
    .argument('<resources>', 'JSON file: host, protocol, collection, coord_frame, experiment, channel')
    .description('create the Boss collection, coordinate frame, experiment and channel, reusing what exists')
    .option('-a, --api-token <token>', 'Boss API token (else INTERN_TOKEN, ~/.intern/intern.cfg, token.json)')
    .action(async (file: string, opts) => {
      const { prepCommand } = await commands();
      process.exitCode = await prepCommand(file, opts);
    });
  return root;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(normaliseArgs(argv), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.completed;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.completed : EXIT.usage;
    }
    if (err instanceof ConfigError || err instanceof UsageError) {
      console.error(`boss-ingest: ${err.message}`);
      return EXIT.usage;
    }
    console.error(`boss-ingest: ${(err as Error).message ?? err}`);
    return EXIT.errors;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
