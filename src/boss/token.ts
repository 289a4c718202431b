/**
 * The Boss API token, found on the worker in the original client's order: `-a/--api-token`
 * (which `run` hands to its worker processes as INTERN_TOKEN), INTERN_TOKEN,
 * ~/.intern/intern.cfg ([Default], then [Project Service]), token.json in the working directory.
 * It never enters Temporal: not in job input, results, heartbeats, logs or error messages.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MissingTokenError } from '../errors.js';

export { MissingTokenError };

/** Reads `key` of `[section]` from an INI text. */
function iniValue(text: string, section: string, key: string): string | undefined {
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!.trim();
      continue;
    }
    const kv = /^([^=:]+)[=:](.*)$/.exec(line);
    if (current === section && kv && kv[1]!.trim().toLowerCase() === key) return kv[2]!.trim() || undefined;
  }
  return undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function findToken(
  env: NodeJS.ProcessEnv = process.env,
  home = os.homedir(),
  cwd = process.cwd(),
): string | undefined {
  if (env.INTERN_TOKEN) return env.INTERN_TOKEN;
  const cfg = readText(path.join(home, '.intern', 'intern.cfg'));
  const fromCfg = cfg && (iniValue(cfg, 'Default', 'token') ?? iniValue(cfg, 'Project Service', 'token'));
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

export function requireToken(): string {
  const token = findToken();
  if (!token) throw new MissingTokenError();
  return token;
}
