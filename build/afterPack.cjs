// electron-builder afterPack hook: flips Electron's fuses in the packaged binary before signing.
// Off: RunAsNode (ELECTRON_RUN_AS_NODE), NODE_OPTIONS, --inspect arguments.
// On: cookie encryption, embedded ASAR integrity validation, load the app only from the ASAR.
'use strict';
const path = require('node:path');

/** The fuse settings, keyed by FuseV1Options name (test/packaging checks them). */
const FUSES = {
  RunAsNode: false,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableCookieEncryption: true,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  GrantFileProtocolExtraPrivileges: false,
};

/** Where the Electron binary is inside electron-builder's output for each platform. */
function electronBinaryPath(context) {
  const name = context.packager.appInfo.productFilename;
  switch (context.electronPlatformName) {
    case 'darwin':
    case 'mas':
      return path.join(context.appOutDir, `${name}.app`);
    case 'win32':
      return path.join(context.appOutDir, `${name}.exe`);
    default:
      return path.join(context.appOutDir, context.packager.executableName || name);
  }
}

/** Flips the fuses of the binary at `binaryPath`; resets the ad-hoc signature on macOS arm64. */
async function flip(binaryPath, platform) {
  const { flipFuses, FuseVersion, FuseV1Options } = await import('@electron/fuses');
  const config = { version: FuseVersion.V1, resetAdHocDarwinSignature: platform === 'darwin' && process.arch === 'arm64' };
  for (const [name, value] of Object.entries(FUSES)) {
    if (!(name in FuseV1Options)) throw new Error(`afterPack: @electron/fuses does not know the fuse ${name}`);
    config[FuseV1Options[name]] = value;
  }
  await flipFuses(binaryPath, config);
}

async function afterPack(context) {
  const binary = electronBinaryPath(context);
  await flip(binary, context.electronPlatformName);
  console.log(`afterPack: fuses set on ${binary}`);
}

module.exports = afterPack;
module.exports.default = afterPack;
module.exports.FUSES = FUSES;
module.exports.electronBinaryPath = electronBinaryPath;
module.exports.flip = flip;
