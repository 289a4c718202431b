/** `boss-ingest service status|stop|serve`: the local service that `run` keeps warm (src/service). */
import { connectService } from '../service/link.js';
import { socketPath } from '../service/protocol.js';
import { processCount, workerCounts, type ConnectionOpts } from './commands.js';
import { EXIT, UsageError } from './exit.js';

export type ServiceOpts = ConnectionOpts & { taskQueue: string; processes: string; metricsPort?: string };

export async function serviceCommand(action: string, opts: ServiceOpts): Promise<number> {
  if (action === 'serve') {
    const { serve } = await import('../service/serve.js');
    const { firstMetricsPort } = workerCounts(opts);
    return serve({
      address: opts.address,
      namespace: opts.namespace,
      taskQueue: opts.taskQueue,
      processes: processCount(opts.processes),
      logLevel: opts.logLevel,
      logFile: opts.logFile,
      metricsPort: firstMetricsPort,
    });
  }
  if (action !== 'status' && action !== 'stop')
    throw new UsageError(`service takes status, stop or serve, not ${JSON.stringify(action)}`);
  const socket = socketPath(opts.address);
  const link = socket ? await connectService(socket) : undefined;
  if (!link) {
    console.log(`no local service at ${opts.address}`);
    return action === 'stop' ? EXIT.completed : EXIT.errors;
  }
  const { pid, log, ui, following } = link.hello;
  if (action === 'status') {
    console.log(`local service at ${opts.address}: pid ${pid}, following ${following} job(s), log ${log}`);
    if (ui) console.log(`Web UI ${ui}`);
    link.close();
    return EXIT.completed;
  }
  await link.stop();
  console.log(`stopped the local service at ${opts.address} (pid ${pid})`);
  return EXIT.completed;
}
