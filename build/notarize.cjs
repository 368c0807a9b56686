// electron-builder afterSign hook: notarizes the signed macOS app with Apple's notary service.
// Credentials come from the environment (never from this repository), one of:
//   APPLE_API_KEY (path to .p8) + APPLE_API_KEY_ID + APPLE_API_ISSUER
//   APPLE_ID + APPLE_APP_SPECIFIC_PASSWORD + APPLE_TEAM_ID
//   APPLE_KEYCHAIN_PROFILE (a profile stored with `xcrun notarytool store-credentials`)
// Without credentials it skips with a message; CORDON_REQUIRE_NOTARIZE=1 makes that an error (release builds).
'use strict';
const path = require('node:path');

/** Which credentials the environment provides, as @electron/notarize options (null when none). */
function notarizeCredentials(env) {
  if (env.APPLE_API_KEY && env.APPLE_API_KEY_ID && env.APPLE_API_ISSUER) {
    return { appleApiKey: env.APPLE_API_KEY, appleApiKeyId: env.APPLE_API_KEY_ID, appleApiIssuer: env.APPLE_API_ISSUER };
  }
  if (env.APPLE_ID && env.APPLE_APP_SPECIFIC_PASSWORD && env.APPLE_TEAM_ID) {
    return { appleId: env.APPLE_ID, appleIdPassword: env.APPLE_APP_SPECIFIC_PASSWORD, teamId: env.APPLE_TEAM_ID };
  }
  if (env.APPLE_KEYCHAIN_PROFILE) return { keychainProfile: env.APPLE_KEYCHAIN_PROFILE };
  return null;
}

async function afterSign(context) {
  if (context.electronPlatformName !== 'darwin') return;
  const credentials = notarizeCredentials(process.env);
  const required = process.env.CORDON_REQUIRE_NOTARIZE === '1';
  if (!credentials) {
    const message = 'notarize: skipped (no APPLE_API_KEY/APPLE_ID/APPLE_KEYCHAIN_PROFILE credentials in the environment)';
    if (required) throw new Error(message);
    console.warn(message);
    return;
  }
  let notarize;
  try {
    ({ notarize } = require('@electron/notarize'));
  } catch {
    const message = 'notarize: @electron/notarize is not installed (npm install --save-dev @electron/notarize)';
    if (required) throw new Error(message);
    console.warn(message);
    return;
  }
  const appPath = path.join(context.appOutDir, `${context.packager.appInfo.productFilename}.app`);
  console.log(`notarize: submitting ${appPath}`);
  await notarize({ appPath, ...credentials });
  console.log('notarize: done');
}

module.exports = afterSign;
module.exports.default = afterSign;
module.exports.notarizeCredentials = notarizeCredentials;
