// Where the worker finds the Boss token: the original client's order, with intern's sections.
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findToken } from '../src/boss/token.js';
import { tempDir } from './harness/env.js';

describe('Boss token sources', () => {
  let home: string;
  let cwd: string;
  const cfg = (text: string) => writeFileSync(path.join(home, '.intern', 'intern.cfg'), text);

  beforeEach(() => {
    home = tempDir('token-home');
    cwd = tempDir('token-cwd');
    mkdirSync(path.join(home, '.intern'));
  });
  afterEach(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  });

  const INTERN = [
    '[Default]',
    'protocol = https',
    'host = api.bossdb.io',
    'token = default-token',
    '',
    '[Project Service]',
    'host = api.bossdb.io',
    'token = project-token',
    '',
    '[Volume Service]',
    'host = api.bossdb.io',
    'token = volume-token',
  ].join('\n');

  it("reads intern's service section before [Default]: [Volume Service] for jobs, [Project Service] for prep", () => {
    cfg(INTERN);
    assert.equal(findToken('api.bossdb.io', 'volume', {}, home, cwd), 'volume-token');
    assert.equal(findToken('api.bossdb.io', 'project', {}, home, cwd), 'project-token');
  });

  it("gives a section's token to its own host only", () => {
    cfg(
      INTERN.replace(
        'host = api.bossdb.io\ntoken = volume-token',
        'host = other.boss.org\ntoken = volume-token',
      ),
    );
    assert.equal(findToken('api.bossdb.io', 'volume', {}, home, cwd), 'project-token');
    assert.equal(findToken('other.boss.org', 'volume', {}, home, cwd), 'volume-token');
    // No section for this host: the file has no token for it, and token.json is next.
    assert.equal(findToken('localhost:8000', 'volume', {}, home, cwd), undefined);
    writeFileSync(path.join(cwd, 'token.json'), JSON.stringify({ token: 'json-token' }));
    assert.equal(findToken('localhost:8000', 'volume', {}, home, cwd), 'json-token');
  });

  it('keeps the original order: INTERN_TOKEN first; a section without a host serves any host', () => {
    cfg('[Default]\ntoken = anywhere-token\n');
    assert.equal(findToken('localhost:8000', 'volume', {}, home, cwd), 'anywhere-token');
    assert.equal(
      findToken('localhost:8000', 'volume', { INTERN_TOKEN: 'env-token' }, home, cwd),
      'env-token',
    );
  });
});
