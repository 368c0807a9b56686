import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AgentRecord } from '../../../app/api/inventory.ts';
import { scanAgents } from '../../../app/discovery/agents/index.ts';
import { discoveryContext } from '../../../app/discovery/context.ts';
import { FAKE_BINARY, addDesktopEntry, addElectronApp, addMacApp, makeHome, put, removeHome } from '../../fixtures/homes/agents.ts';

function apps(agents: readonly AgentRecord[]): string[] {
  return agents.filter((a) => a.installType === 'desktop-app').map((a) => `${a.kind}@${a.version}:${a.source}`).sort();
}

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await makeHome();
  try {
    await fn(home);
  } finally {
    await removeHome(home);
  }
}

describe('desktop agent apps', () => {
  it('Linux: .desktop entries (versioned from the unpacked app) and AppImages (newest per app)', () =>
    withHome(async (home) => {
      const cursorLauncher = await addElectronApp(join(home, 'opt', 'cursor'), 'cursor', '1.4.2');
      await addDesktopEntry(home, 'cursor.desktop', { Name: 'Cursor', Exec: `${cursorLauncher} --no-sandbox %F` });
      // Only a token match: confirmed by Name=.
      await addDesktopEntry(home, 'appimagekit_1234-Windsurf.desktop', { Name: 'Windsurf', Exec: `"${join(home, 'Applications', 'Windsurf-1.10.5-x86_64.AppImage')}" %U` });
      await addDesktopEntry(home, 'organized.desktop', { Name: 'Organized', Exec: '/usr/bin/true' }); // contains "zed", is not Zed
      await addDesktopEntry(home, 'kiro-url-handler.desktop', { Name: 'Kiro', Exec: '/nonexistent/kiro', NoDisplay: 'true' });
      await put(join(home, 'Applications', 'Windsurf-1.9.0-x86_64.AppImage'), FAKE_BINARY, 0o755);
      await put(join(home, 'Applications', 'Windsurf-1.10.5-x86_64.AppImage'), FAKE_BINARY, 0o755);
      await put(join(home, 'Applications', 'Zed-0.200.1.AppImage'), FAKE_BINARY, 0o755);
      // A certain id whose file cannot be read is still the app: reported, with the error.
      await put(join(home, '.local', 'share', 'applications', 'dev.zed.Zed.desktop'), Buffer.from([0x5b, 0xc3, 0x28, 0x5d]));

      const result = await scanAgents(discoveryContext({ home, platform: 'linux' }));
      assert.deepEqual(apps(result.agents), ['cursor@1.4.2:desktop-entry', 'windsurf@1.10.5:appimage', 'zed@0.200.1:appimage', 'zed@null:desktop-entry']);
      const cursor = result.agents.find((a) => a.kind === 'cursor');
      assert.equal(cursor?.path, cursorLauncher);
      const windsurf = result.agents.find((a) => a.kind === 'windsurf');
      assert.equal(windsurf?.path, join(home, 'Applications', 'Windsurf-1.10.5-x86_64.AppImage'));
      assert.deepEqual(
        result.errors.map((e) => [e.path, e.category]),
        [[join(home, '.local', 'share', 'applications', 'dev.zed.Zed.desktop'), 'encoding']],
      );
      assert.ok(result.watchPaths.includes(join(home, '.local', 'share', 'applications')));
      assert.ok(result.watchPaths.includes(join(home, 'Applications')));
      assert.ok(!result.watchPaths.includes('/usr/share/applications'), 'system dirs only with includeSystem');
    }));

  it('Linux: an AppImage upgrade keeps the id', () =>
    withHome(async (home) => {
      const dir = join(home, 'Applications');
      await put(join(dir, 'Cursor-1.0.0-x86_64.AppImage'), FAKE_BINARY, 0o755);
      const before = (await scanAgents(discoveryContext({ home, platform: 'linux' }))).agents.find((a) => a.kind === 'cursor');
      const { rename } = await import('node:fs/promises');
      await rename(join(dir, 'Cursor-1.0.0-x86_64.AppImage'), join(dir, 'Cursor-1.1.0-x86_64.AppImage'));
      const after = (await scanAgents(discoveryContext({ home, platform: 'linux' }))).agents.find((a) => a.kind === 'cursor');
      assert.equal(before?.version, '1.0.0');
      assert.equal(after?.version, '1.1.0');
      assert.equal(after?.id, before?.id);
      assert.notEqual(after?.fingerprint, before?.fingerprint);
    }));

  it('macOS: app bundles in ~/Applications with CFBundleShortVersionString from Info.plist', () =>
    withHome(async (home) => {
      const appsDir = join(home, 'Applications');
      const claude = await addMacApp(appsDir, 'Claude.app', '0.12.28');
      await addMacApp(appsDir, 'Cursor.app', '', `<?xml version="1.0"?><plist version="1.0"><dict><key>CFBundleVersion</key><string>1.2&amp;3</string></dict></plist>`);
      await addMacApp(appsDir, 'Zed.app', '', Buffer.concat([Buffer.from('bplist00'), Buffer.from([0xd1, 0x01, 0x02, 0x00])]));
      await addMacApp(appsDir, 'Kiro.app', '', '<plist><array><string>1.0</string></array></plist>');
      const result = await scanAgents(discoveryContext({ home, platform: 'darwin' }));
      const found = result.agents.filter((a) => a.installType === 'desktop-app');
      assert.deepEqual(found.map((a) => `${a.kind}@${a.version}`).sort(), ['claude-desktop@0.12.28', 'cursor@null', 'kiro@null', 'zed@null']);
      assert.equal(found.find((a) => a.kind === 'claude-desktop')?.path, claude);
      const errors = new Map(result.errors.map((e) => [e.path, e]));
      assert.equal(errors.get(join(appsDir, 'Cursor.app', 'Contents', 'Info.plist'))?.category, 'schema', '"1.2&3" is not a version');
      assert.equal(errors.get(join(appsDir, 'Zed.app', 'Contents', 'Info.plist'))?.category, 'encoding');
      assert.match(errors.get(join(appsDir, 'Zed.app', 'Contents', 'Info.plist'))?.message ?? '', /binary/);
      assert.equal(errors.get(join(appsDir, 'Kiro.app', 'Contents', 'Info.plist'))?.category, 'parse');
      assert.ok(result.watchPaths.includes(appsDir));
    }));

  it('Windows: per-user installs under %LOCALAPPDATA%\\Programs and Squirrel app-<version> dirs', () =>
    withHome(async (home) => {
      const local = join(home, 'AppData', 'Local');
      await addElectronApp(join(local, 'Programs', 'cursor'), 'Cursor.exe', '1.5.0');
      await addElectronApp(join(local, 'Programs', 'Microsoft VS Code'), 'Code.exe', '1.104.0');
      await put(join(local, 'Programs', 'Zed', 'zed.exe'), FAKE_BINARY);
      await put(join(local, 'AnthropicClaude', 'app-0.9.3', 'claude.exe'), FAKE_BINARY);
      await put(join(local, 'AnthropicClaude', 'app-0.10.1', 'claude.exe'), FAKE_BINARY);
      await put(join(local, 'AnthropicClaude', 'packages', 'RELEASES'), '');
      const result = await scanAgents(discoveryContext({ home, platform: 'win32', env: { PATH: '', LOCALAPPDATA: local } }));
      assert.deepEqual(apps(result.agents), ['claude-desktop@0.10.1:user-install', 'cursor@1.5.0:user-install', 'vscode@1.104.0:user-install', 'zed@null:user-install']);
      assert.deepEqual(result.errors, []);
      assert.ok(result.watchPaths.includes(join(local, 'Programs')));
    }));
});
