/**
 * The tile processor params that make a colour image grey: `channel` (pick one, exact) or
 * `colour_to_grey` (convert, lossy). Never implicit: without them a colour tile is an error.
 */
import type { GreyOptions } from '../tiles/decode.js';
import { PluginParamError, type PluginParams } from './types.js';

export function greyOptions(params: PluginParams, where: string): GreyOptions {
  const { channel, colour_to_grey: toGrey } = params;
  if (
    channel !== undefined &&
    !(Number.isInteger(channel) && (channel as number) >= 0 && (channel as number) <= 3)
  ) {
    throw new PluginParamError(
      `${where}.params.channel`,
      `must be a channel number 0-3 (0 red, 1 green, 2 blue, 3 alpha), not ${JSON.stringify(channel)}`,
    );
  }
  if (toGrey !== undefined && typeof toGrey !== 'boolean') {
    throw new PluginParamError(
      `${where}.params.colour_to_grey`,
      `must be true or false, not ${JSON.stringify(toGrey)}`,
    );
  }
  if (channel !== undefined && toGrey === true) {
    throw new PluginParamError(
      `${where}.params.colour_to_grey`,
      'cannot be combined with channel: pick one channel or convert colour to grey',
    );
  }
  return channel !== undefined ? { channel: channel as number } : { colourToGrey: toGrey === true };
}
