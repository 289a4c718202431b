// Unit tests of the original client's command line mapped onto the subcommands (src/cli/args.ts).
import { strict as assert } from 'node:assert';
import { normaliseArgs } from '../src/cli/args.js';

describe('normaliseArgs (the original command line)', () => {
  it('CONFIG alone is run CONFIG', () => {
    assert.deepEqual(normaliseArgs(['job.json']), ['run', 'job.json']);
  });

  it('CONFIG -j ID -p 2 is run, keeping every option', () => {
    assert.deepEqual(normaliseArgs(['job.json', '-j', '42', '-p', '2']), [
      'run',
      'job.json',
      '-j',
      '42',
      '-p',
      '2',
    ]);
  });

  it('options before CONFIG still make a run', () => {
    assert.deepEqual(normaliseArgs(['-f', '-v', 'info', 'job.json']), [
      'run',
      '-f',
      '-v',
      'info',
      'job.json',
    ]);
  });

  it('-c -j ID (and --cancel --job-id ID) is cancel -j ID', () => {
    assert.deepEqual(normaliseArgs(['-c', '-j', '42']), ['cancel', '-j', '42']);
    assert.deepEqual(normaliseArgs(['--cancel', '--job-id', '42']), ['cancel', '--job-id', '42']);
    assert.deepEqual(normaliseArgs(['-j', '42', '-c']), ['cancel', '-j', '42']);
  });

  it('CONFIG -c -j ID (how the original was usually called) is cancel -j ID: cancel takes no config', () => {
    assert.deepEqual(normaliseArgs(['job.json', '-c', '-j', '42']), ['cancel', '-j', '42']);
    assert.deepEqual(normaliseArgs(['--cancel', 'job.json', '--job-id', '42']), ['cancel', '--job-id', '42']);
  });

  it('--processes_nb=N (the = form argparse accepted) becomes --processes=N', () => {
    assert.deepEqual(normaliseArgs(['job.json', '--processes_nb=3']), ['run', 'job.json', '--processes=3']);
  });

  it('--processes_nb N becomes --processes N', () => {
    assert.deepEqual(normaliseArgs(['job.json', '--processes_nb', '3']), [
      'run',
      'job.json',
      '--processes',
      '3',
    ]);
    assert.deepEqual(normaliseArgs(['run', 'job.json', '--processes_nb', '3']), [
      'run',
      'job.json',
      '--processes',
      '3',
    ]);
  });

  it('leaves subcommands unchanged', () => {
    for (const args of [
      ['status', '-j', 'X'],
      ['cancel', '-j', 'X', '--reason', 'wrong stack'],
      ['run', 'job.json', '-p', '2'],
      ['start', 'job.json', '--wait'],
      ['worker', '-p', '4'],
      ['validate', 'job.json', '--output', 'v.ome.zarr'],
      ['help', 'run'],
    ]) {
      assert.deepEqual(normaliseArgs(args), args);
    }
  });

  it('leaves --help, -h, --version and -V alone, and no arguments at all', () => {
    for (const args of [['--help'], ['-h'], ['--version'], ['-V'], []]) {
      assert.deepEqual(normaliseArgs(args), args);
    }
  });

  it('CONFIG --help is help for run', () => {
    assert.deepEqual(normaliseArgs(['job.json', '--help']), ['run', 'job.json', '--help']);
  });

  it('does not mistake a config file named like an option value for a subcommand', () => {
    assert.deepEqual(normaliseArgs(['status.json']), ['run', 'status.json']);
  });
});
