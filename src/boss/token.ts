/**
 * The Boss API token, found on the worker in the original client's order: `-a/--api-token`
 * (which `run` hands to its worker processes as INTERN_TOKEN), INTERN_TOKEN,
 * ~/.intern/intern.cfg, token.json in the working directory. In intern.cfg the sections are read
 * as intern reads them: the service's own section ([Volume Service] for cutouts, [Project
 * Service] for resources) before the other and before [Default], and a section that names a
 * host gives its token to that host only (it belongs to another Boss otherwise).
 * It never enters Temporal: not in job input, results, heartbeats, logs or error messages.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MissingTokenError } from '../errors.js';

export { MissingTokenError };

/** Which of intern's services a token is for: cutouts and downsampling, or resources. */
export type BossService = 'volume' | 'project';

const SECTIONS: Record<BossService, string[]> = {
  volume: ['Volume Service', 'Project Service', 'Default'],
  project: ['Project Service', 'Volume Service', 'Default'],
};

/** The sections of an INI text, keys lower-cased. */
function iniSections(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      continue;
    }
    const kv = /^([^=:]+)[=:](.*)$/.exec(line);
    if (current && kv) current.set(kv[1]!.trim().toLowerCase(), kv[2]!.trim());
  }
  return sections;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The token of the first section that has one and whose host, if it names one, is `host`. */
function fromInternConfig(text: string, host: string | undefined, service: BossService): string | undefined {
  const sections = iniSections(text);
  for (const name of SECTIONS[service]) {
    const section = sections.get(name);
    const token = section?.get('token');
    if (!token) continue;
    const own = section!.get('host');
    if (own && host && own.toLowerCase() !== host.toLowerCase()) continue;
    return token;
  }
  return undefined;
}

/** `host` is the Boss's `host[:port]`, as in the job's `client.backend.host`. */
export function findToken(
  host?: string,
  service: BossService = 'volume',
  env: NodeJS.ProcessEnv = process.env,
  home = os.homedir(),
  cwd = process.cwd(),
): string | undefined {
  if (env.INTERN_TOKEN) return env.INTERN_TOKEN;
  const cfg = readText(path.join(home, '.intern', 'intern.cfg'));
  const fromCfg = cfg && fromInternConfig(cfg, host, service);
  if (fromCfg) return fromCfg;
  const json = readText(path.join(cwd, 'token.json'));
  if (json) {
    try {
      const token = (JSON.parse(json) as { token?: unknown }).token;
      if (typeof token === 'string' && token) return token;
    } catch {
      // Not JSON: as if absent; the error below says where tokens are looked for.
    }
  }
  return undefined;
}

/** A source Boss's token (intern sources), read on the worker: BOSS_SOURCE_TOKEN, else the destination's. */
export function sourceToken(): string {
  const token = process.env.BOSS_SOURCE_TOKEN || findToken();
  if (!token) throw new MissingTokenError();
  return token;
}

/** `baseUrl`: `{protocol}://{host}` of the Boss the token is for. */
export function requireToken(baseUrl?: string, service: BossService = 'volume'): string {
  const host = baseUrl ? new URL(baseUrl).host : undefined;
  const token = findToken(host, service);
  if (!token) throw new MissingTokenError(host);
  return token;
}
