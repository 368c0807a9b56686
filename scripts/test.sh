#!/usr/bin/env bash
# The test command: set up this checkout (Debian packages, Node 24, npm ci), then `npm test`
# (lint, typecheck, and every test against a real keyring, SQLite and loopback sockets).
source "$(dirname "$0")/setup.sh"
exec npm test
