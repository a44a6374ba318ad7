// The committed messages.ts must be exactly what the generator produces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate, defaultSpecDir, defaultOutFile, stripComments } from '../../scripts/gen-protocol.js';
import { tempDir, removeDir, repoRoot } from '../helpers/util.js';

test('the generator reproduces the committed src/core/protocol/messages.ts', () => {
  const specDir = defaultSpecDir();
  assert.ok(existsSync(specDir), `Kafka message definitions not found at ${specDir}`);
  const dir = tempDir('kafkit-gen-');
  try {
    const out = join(dir, 'messages.ts');
    writeFileSync(out, generate(specDir));
    // a Windows checkout may have CRLF line ends: compare lines, not line ends
    const committed = readFileSync(join(repoRoot, 'src', 'core', 'protocol', 'messages.ts'), 'utf8').replace(/\r\n/g, '\n');
    assert.equal(defaultOutFile(), join(repoRoot, 'src', 'core', 'protocol', 'messages.ts'));
    const fresh = readFileSync(out, 'utf8');
    if (fresh !== committed) {
      const a = fresh.split('\n');
      const b = committed.split('\n');
      const i = a.findIndex((l, k) => l !== b[k]);
      assert.fail(`messages.ts is stale: first difference at line ${i + 1}: '${b[i]}' vs generated '${a[i]}'; run node dist/scripts/gen-protocol.js`);
    }
  } finally {
    removeDir(dir);
  }
});

test('comment stripping keeps // inside strings', () => {
  assert.equal(JSON.parse(stripComments('// head\n{ "a": "x//y" } // tail\n')).a, 'x//y');
});
