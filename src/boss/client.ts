/** The Boss client of this thread, one per Boss. */
import { BossApi } from './api.js';
import { requireToken } from './token.js';

const apis = new Map<string, BossApi>();

/**
 * A client for the Boss at `baseUrl`. With a `token` (the CLI's `-a`), a client of its own;
 * without, the thread's shared one, whose token comes from this process's environment (a
 * worker's, where it must stay: it never enters Temporal).
 */
export function bossApi(baseUrl: string, token?: string): BossApi {
  if (token) return new BossApi(baseUrl, token);
  let api = apis.get(baseUrl);
  if (!api) {
    api = new BossApi(baseUrl, requireToken(baseUrl));
    apis.set(baseUrl, api);
  }
  return api;
}
