#!/usr/bin/env bash
# Quick start: set up this checkout, show what Cordon finds on this machine, and run the daemon
# in the foreground (Ctrl-C stops it). In another terminal: npx cordon status | events | scan.
source "$(dirname "$0")/setup.sh"
node bin/cordon.js scan
echo
echo "Starting the Cordon daemon (Ctrl-C to stop). In another terminal, after 'source scripts/ensure-node.sh':"
echo "  npx cordon status        npx cordon events --follow        npx cordon settings"
exec node bin/cordon.js daemon "$@"
