// The committed native-config/ files and the generated tables of docs/it-deployment.md must be
// exactly what the generator produces from the schema today.
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { NATIVE_CONFIG_DIR, nativeConfigArtifacts } from '../../app/service/nativeConfig/artifacts.ts';
import { fillGeneratedBlocks, IT_DEPLOYMENT_DOC } from '../../app/service/nativeConfig/docs.ts';
import { REPO } from './helpers.ts';

const HOW = 'regenerate with `npm run native-config`';

describe('generated native-config/ is up to date', () => {
  it('every committed artifact equals a fresh render, byte for byte', async () => {
    for (const artifact of nativeConfigArtifacts()) {
      const committed = await readFile(join(REPO, ...artifact.path.split('/'))).catch(() => null);
      assert.ok(committed, `${artifact.path} is missing: ${HOW}`);
      assert.ok(Buffer.from(artifact.bytes).equals(committed), `${artifact.path} is stale: ${HOW}`);
    }
  });

  it('native-config/ holds no file the generator does not produce', async () => {
    const wanted = new Set(nativeConfigArtifacts().map((a) => a.path));
    const entries = await readdir(join(REPO, NATIVE_CONFIG_DIR), { withFileTypes: true, recursive: true });
    for (const entry of entries.filter((e) => e.isFile())) {
      const path = relative(REPO, join(entry.parentPath, entry.name)).split(sep).join('/');
      assert.ok(wanted.has(path), `${path} is not generated any more: ${HOW} (it removes it)`);
    }
  });

  it('maintainer scripts are executable', async () => {
    for (const artifact of nativeConfigArtifacts().filter((a) => a.mode === 0o755)) {
      const info = await stat(join(REPO, ...artifact.path.split('/')));
      assert.equal(info.mode & 0o111, 0o111, `${artifact.path} must be executable: ${HOW}`);
    }
  });

  it('the generated tables of docs/it-deployment.md are current', async () => {
    const text = await readFile(join(REPO, IT_DEPLOYMENT_DOC), 'utf8');
    const filled = fillGeneratedBlocks(text);
    assert.deepEqual(filled.missing, [], `${IT_DEPLOYMENT_DOC} lost its generated-block markers`);
    assert.ok(filled.text === text, `${IT_DEPLOYMENT_DOC} is stale: ${HOW}`);
  });

  it('renders the same bytes on every run (no timestamps, no random UUIDs)', () => {
    const first = nativeConfigArtifacts();
    const second = nativeConfigArtifacts();
    assert.deepEqual(
      second.map((a) => [a.path, Buffer.from(a.bytes).toString('base64')]),
      first.map((a) => [a.path, Buffer.from(a.bytes).toString('base64')]),
    );
  });
});
