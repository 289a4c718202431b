/**
 * The Boss's downsample of a channel after an ingest: started once, then its status polled with
 * backoff while heartbeating, so a cancelled job reaches it and cancels the downsample it started.
 */
import { CancelledFailure, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BossError, type ChannelName, type DownsampleStatus } from '../boss/api.js';
import { bossApi } from '../boss/client.js';
import { classify, FAILURE } from '../errors.js';

export interface DownsampleInput extends ChannelName {
  /** `{protocol}://{host}` of the Boss. */
  baseUrl: string;
  /**
   * 'start': start it (unless one is in progress) and return its status at once; 'wait': poll until
   * it is no longer in progress, cancelling it when the job is cancelled.
   */
  phase: 'start' | 'wait';
}

const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 30_000;
const HEARTBEAT_EVERY_MS = 2000;

export async function bossDownsample(input: DownsampleInput): Promise<DownsampleStatus> {
  const ctx = Context.current();
  const api = bossApi(input.baseUrl);
  const name = `${input.collection}/${input.experiment}/${input.channel}`;
  let status: DownsampleStatus | undefined;
  /** The status now; FAILED ends the job with the server's text. */
  const read = async (): Promise<DownsampleStatus> => {
    const answer = await api.downsampleStatus(input);
    if (answer.status === 'FAILED')
      throw ApplicationFailure.nonRetryable(
        `the Boss's downsample of ${name} FAILED${answer.message ? `: ${answer.message}` : ''}`,
        FAILURE.jobError,
      );
    return answer.status;
  };
  const ticker = setInterval(() => ctx.heartbeat(status), HEARTBEAT_EVERY_MS);
  try {
    if (input.phase === 'start') {
      // A retry of this phase finds the downsample it started already in progress.
      ({ status } = await api.downsampleStatus(input));
      if (status !== 'IN_PROGRESS') await api.startDownsample(input);
      return (status = await read());
    }
    status = await read();
    for (let wait = FIRST_POLL_MS; status === 'IN_PROGRESS'; wait = Math.min(wait * 2, MAX_POLL_MS)) {
      ctx.heartbeat(status);
      try {
        await ctx.sleep(wait);
      } catch (err) {
        if (err instanceof CancelledFailure && ctx.cancellationDetails?.cancelRequested) {
          await api.cancelDownsample(input).catch(() => undefined);
          ctx.log.info(`cancelled the downsample of ${name}`);
        }
        throw err;
      }
      status = await read();
    }
    return status;
  } catch (err) {
    if (err instanceof BossError && classify(err) === 'job')
      throw ApplicationFailure.nonRetryable(err.message, FAILURE.jobError);
    throw err;
  } finally {
    clearInterval(ticker);
  }
}
