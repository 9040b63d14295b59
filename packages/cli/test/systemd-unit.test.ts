/**
 * The systemd unit in packaging/: systemd's own verifier accepts it (with
 * ExecStart pointed at this checkout's launcher), and it runs the agent as
 * a service should: an unprivileged account, no capabilities, a read-only
 * system but for its state directory, stopped with SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;
const unit = readFileSync(join(root, 'packaging', 'systemd', 'skybridge-connect.service'), 'utf8');
const directive = (name: string) => unit.split('\n').filter((l) => l.startsWith(`${name}=`)).map((l) => l.slice(name.length + 1));

test('systemd-analyze verify accepts the unit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-unit-'));
  try {
    const path = join(dir, 'skybridge-connect.service');
    writeFileSync(path, unit.replace('/opt/skybridge/skybridge', join(root, 'skybridge')));
    const out = execFileSync('systemd-analyze', ['verify', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out.trim(), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the unit runs connect run unprivileged, sandboxed, with JSON logs and loopback metrics', () => {
  assert.deepEqual(directive('ExecStart'), ['/opt/skybridge/skybridge connect run']);
  assert.deepEqual(directive('User'), ['skybridge']);
  assert.deepEqual(directive('NoNewPrivileges'), ['yes']);
  assert.deepEqual(directive('CapabilityBoundingSet'), ['']);
  assert.deepEqual(directive('ProtectSystem'), ['strict']);
  assert.deepEqual(directive('StateDirectory'), ['skybridge']);
  assert.deepEqual(directive('KillSignal'), ['SIGTERM']);
  assert.ok(directive('Environment').includes('SKYBRIDGE_LOG_FORMAT=json'));
  assert.ok(directive('Environment').includes('SKYBRIDGE_METRICS=127.0.0.1:9464'));
  // V8 compiles code at run time: a W^X policy would kill the agent
  assert.deepEqual(directive('MemoryDenyWriteExecute'), []);
});
