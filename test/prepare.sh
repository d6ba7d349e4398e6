#!/usr/bin/env bash
# Runs before `npm test`: makes sure the tests' outside parts exist, and fails loudly when they
# cannot be had (the suites never skip).
#  - redis-server (Debian's package) for the state-survives-a-sidecar-restart tests;
#  - the test sidecar: DAPRD_BIN, ~/.dapr/bin/daprd, or test/dapr/build.sh (needs Go);
#  - the compat apps: the packed package installed into a Nest 11 and a Nest 12 app
#    (test/compat/install.sh; needs the npm registry unless nothing changed since the last install).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1 && [ -z "${REDIS_SERVER_BIN:-}" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "prepare: installing redis-server (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  else
    echo "prepare: redis-server is missing: install Debian's redis-server package or set REDIS_SERVER_BIN" >&2
    exit 1
  fi
fi

if [ -n "${DAPRD_BIN:-}" ]; then
  [ -x "$DAPRD_BIN" ] || { echo "prepare: DAPRD_BIN=$DAPRD_BIN is not an executable" >&2; exit 1; }
elif [ ! -x "$HOME/.dapr/bin/daprd" ]; then
  bash test/dapr/build.sh >/dev/null
fi
bash test/compat/install.sh
echo "prepare: redis-server, daprd and the compat apps are ready"
