// What the engine logs reaches the node's log file (-l): here a Boss retry, at debug, never the token.
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BossApi } from '../src/boss/api.js';
import { LOG_FILE_ENV, LOG_LEVEL_ENV } from '../src/log/file-log.js';
import { startBossEmulator } from './boss-emulator/index.js';
import { tempDir } from './harness/env.js';

const TOKEN = 'secret-log-test-token';

describe('the log file', () => {
  const saved = { file: process.env[LOG_FILE_ENV], level: process.env[LOG_LEVEL_ENV] };
  let dir: string;
  before(() => {
    dir = tempDir('log');
  });
  after(() => {
    for (const [key, value] of [
      [LOG_FILE_ENV, saved.file],
      [LOG_LEVEL_ENV, saved.level],
    ] as const)
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const level of ['DEBUG', 'INFO'] as const) {
    it(`a Boss request retried after a 503 is logged at debug (log level ${level}), without the token`, async () => {
      const file = path.join(dir, `${level}.log`);
      process.env[LOG_FILE_ENV] = file;
      process.env[LOG_LEVEL_ENV] = level;
      const boss = await startBossEmulator({
        tokens: [{ token: TOKEN, canWrite: true, canCreate: true }],
        faults: { script: [503], scope: 'all' },
      });
      try {
        boss.createCoordFrame('cf', {
          x_start: 0,
          x_stop: 10,
          y_start: 0,
          y_stop: 10,
          z_start: 0,
          z_stop: 1,
        });
        await new BossApi(boss.url, TOKEN, { backoffMs: 1 }).getResource('/v1/coord/cf/');
      } finally {
        await boss.stop();
      }
      const log = level === 'DEBUG' ? readFileSync(file, 'utf8') : '';
      if (level === 'INFO') {
        assert.throws(() => readFileSync(file, 'utf8'), /ENOENT/, 'nothing below the level is written');
        return;
      }
      assert.match(
        log,
        /DEBUG Boss request failed; retrying .*"error":"GET \/v1\/coord\/cf\/: 503.*"attempt":1/,
      );
      assert.ok(!log.includes(TOKEN), 'the token never reaches the log');
    });
  }
});
