import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { keysCommand } from './keys.js';

let root = '';

/** Runs the command with stdout captured. */
async function run(...argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  };
  try {
    const code = await keysCommand(argv);
    return { code, out: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'edufed-keys-'));
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('edufed keys', () => {
  it('init, issue, revoke and list work together on one federation folder', async () => {
    const dir = join(root, 'fed');
    assert.equal((await run('init', '--dir', dir, '--host', 'coord.example.org')).code, 0);
    assert.ok(existsSync(join(dir, 'coordinator', 'cert.pem')));
    const issued = await run('issue', '--dir', dir, '--id', 'region-1');
    assert.equal(issued.code, 0);
    assert.match(issued.out, /Issued the certificate of "region-1" \(serial [0-9A-F]+/);
    assert.ok(existsSync(join(dir, 'participants', 'region-1', 'key.pem')));
    await run('issue', '--dir', dir, '--id', 'region-2');
    assert.match((await run('revoke', '--dir', dir, '--id', 'region-2', '--reason', 'cessationOfOperation')).out, /Revoked serial \w+ of "region-2" \(cessationOfOperation\)/);
    const listed = await run('list', '--dir', dir);
    assert.match(listed.out, /ca +ca +\w+ +\S+ +valid/);
    assert.match(listed.out, /coordinator +coordinator/);
    assert.match(listed.out, /participant +region-1 +\w+ +\S+ +valid/);
    assert.match(listed.out, /participant +region-2 +\w+ +\S+ +revoked \(cessationOfOperation/);
    const json: unknown = JSON.parse((await run('list', '--dir', dir, '--json')).out);
    assert.ok(Array.isArray(json) && json.length === 4);
  });

  it('prints help, and exits 2 when no subcommand is given', async () => {
    assert.equal((await run()).code, 2);
    const help = await run('--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /edufed keys <init\|issue\|revoke\|list>/);
  });

  it('names the flag at fault', async () => {
    const fails = async (pattern: RegExp, ...argv: string[]): Promise<void> => {
      await assert.rejects(run(...argv), (e: unknown) => e instanceof ConfigError && pattern.test(e.message));
    };
    await fails(/--dir: give the federation folder/, 'init');
    await fails(/--id: give the participant id/, 'issue', '--dir', join(root, 'fed'));
    await fails(/--reason: must be one of/, 'revoke', '--dir', join(root, 'fed'), '--id', 'region-1', '--reason', 'boredom');
    await fails(/--days: must be ≥ 0/, 'issue', '--dir', join(root, 'fed'), '--id', 'x1', '--days=-3');
    await fails(/unknown subcommand "rotate"/, 'rotate', '--dir', root);
    await assert.rejects(run('list', '--dri', root), /Unknown option '--dri'/);
  });
});
