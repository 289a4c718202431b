/**
 * The Node-API addons `npm run build` compiles beside the modules that load them
 * (scripts/build-native.mjs): each module falls back to a slower path where one is missing, and the
 * build said why.
 */
import { createRequire } from 'node:module';

/** The addon `file` beside the module at `moduleUrl` (its import.meta.url), or undefined where it was not built. */
export function nativeAddon<T>(moduleUrl: string, file: string): T | undefined {
  try {
    return createRequire(moduleUrl)(file) as T;
  } catch {
    return undefined;
  }
}
