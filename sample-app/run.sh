#!/usr/bin/env bash
# Starts the demo: the sample's master-data peer, a Dapr sidecar (DAPRD_BIN, ~/.dapr/bin/daprd, the
# test sidecar built by test/dapr/build.sh, or built now when Go is installed), and the sample cart
# service on PORT (default 3000). Without a sidecar the app still starts; /health/ready says why it
# is not ready. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

export PORT="${PORT:-3000}"
export PEER_PORT="${PEER_PORT:-8002}"
export DAPR_HTTP_PORT="${DAPR_HTTP_PORT:-3500}"
DAPR_GRPC_PORT="${DAPR_GRPC_PORT:-50001}"
DAPR_INTERNAL_GRPC_PORT="${DAPR_INTERNAL_GRPC_PORT:-50002}"
export BASE_URL_MASTER_DATA="${BASE_URL_MASTER_DATA:-http://127.0.0.1:${PEER_PORT}/api/v1}"
export BASE_URL_CART="${BASE_URL_CART:-http://127.0.0.1:${PEER_PORT}/api/v1}"
TS_NODE="node -r ts-node/register/transpile-only"

pids=()
resources=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$resources" ]; then rm -rf "$resources"; fi
}
trap cleanup EXIT INT TERM

$TS_NODE sample-app/peer/master-data.peer.ts &
pids+=($!)

daprd=""
if [ -n "${DAPRD_BIN:-}" ] && [ -x "$DAPRD_BIN" ]; then daprd="$DAPRD_BIN"
elif [ -x "$HOME/.dapr/bin/daprd" ]; then daprd="$HOME/.dapr/bin/daprd"
elif command -v go >/dev/null 2>&1; then
  echo "run.sh: building the test sidecar if needed (first build takes a few minutes)"
  if daprd="$(bash test/dapr/build.sh | tail -n 1)"; then :; else daprd=""; fi
elif [ -x test/dapr/.bin/daprd ]; then daprd="$PWD/test/dapr/.bin/daprd"
fi

if [ -n "$daprd" ]; then
  resources="$(mktemp -d)"
  cp test/dapr/components/in-memory/*.yaml "$resources/"
  DAPR_HOST_IP=127.0.0.1 "$daprd" --app-id cart-sample \
    --dapr-http-port "$DAPR_HTTP_PORT" --dapr-grpc-port "$DAPR_GRPC_PORT" \
    --dapr-internal-grpc-port "$DAPR_INTERNAL_GRPC_PORT" \
    --app-port "$PORT" --app-protocol http \
    --dapr-listen-addresses 127.0.0.1 --dapr-internal-grpc-listen-address 127.0.0.1 \
    --enable-metrics=false --resources-path "$resources" --config test/dapr/config.yaml \
    --log-level warn &
  pids+=($!)
  echo "run.sh: sidecar $daprd on 127.0.0.1:$DAPR_HTTP_PORT (in-memory state store and pub/sub, inbound retry policy), delivering to the app on port $PORT"
else
  echo "run.sh: no daprd found and none could be built: starting without a sidecar (readiness will say so)"
fi

# --- Real-time sample (sample-app/stock): the stock service serves its alert WebSocket on
# STOCK_PORT (8003); the stock monitor on MONITOR_PORT (3001) subscribes to it with RealtimeClient.
# SECRET_KEY signs and verifies the monitor's service token (a random one per run by default).
export STOCK_PORT="${STOCK_PORT:-8003}" MONITOR_PORT="${MONITOR_PORT:-3001}"
export BASE_URL_STOCK="${BASE_URL_STOCK:-http://127.0.0.1:${STOCK_PORT}/api/v1}"
SECRET_KEY="${SECRET_KEY:-$(head -c 24 /dev/urandom | base64)}" && export SECRET_KEY
$TS_NODE sample-app/stock/stock-service/main.ts &
pids+=($!)
$TS_NODE sample-app/stock/monitor/main.ts &
pids+=($!)
# --- end of the real-time sample

$TS_NODE sample-app/main.ts &
pids+=($!)
wait "${pids[-1]}"
