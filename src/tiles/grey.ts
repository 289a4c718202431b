/** How a tile of several channels may be made grey, and the errors for one that cannot. */
import { TileError } from './tile.js';

/** What to do with an image of several channels; by default it is an error. */
export interface GreyOptions {
  /** Take this channel (0 red, 1 green, 2 blue, 3 alpha; 0 grey, 1 alpha): exact. */
  channel?: number;
  /** libvips's colour to grey conversion (weighted sum of the channels, alpha dropped): lossy. */
  colourToGrey?: boolean;
}

/** `space` is libvips's name for the image's colour space (b-w, grey16, srgb, rgb16, cmyk, ...). */
export function refuseColour(file: string, channels: number, hasAlpha: boolean, space: string): never {
  const what = hasAlpha ? 'has an alpha channel' : 'is a colour image';
  throw new TileError(
    file,
    `${what} (${channels} channels, ${space}); boss-ingest reads grey images only ` +
      '(tile_processor params "channel": N picks one channel, "colour_to_grey": true converts)',
  );
}

export function refuseMissingChannel(file: string, channels: number, channel: number): never {
  throw new TileError(
    file,
    `has ${channels} channel(s), so tile_processor params channel ${channel} does not exist`,
  );
}
