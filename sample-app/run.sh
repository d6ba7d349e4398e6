#!/usr/bin/env bash
# Starts the sample, each part its own process: Redis (the pub/sub streams and the state stores), the
# sample's master-data and terminal peer, the cart service and the report service, each service with its own Dapr
# sidecar (DAPRD_BIN, ~/.dapr/bin/daprd, the test sidecar built by test/dapr/build.sh, or built now
# when Go is installed), and the real-time sample (the stock service and its monitor). Ctrl-C stops
# everything. While it runs, `bash sample-app/sidecar.sh stop|start cart|report` stops or starts one
# sidecar (the README's walkthrough does).
#
# Ports (environment): PORT 3000 (cart), REPORT_PORT 3002, PEER_PORT 8002, REDIS_PORT 6390,
# DAPR_HTTP_PORT 3500 (cart's sidecar), REPORT_DAPR_HTTP_PORT 3501, STOCK_PORT 8003, MONITOR_PORT
# 3001. State: SAMPLE_RUN_DIR (.tmp/sample).
set -euo pipefail
cd "$(dirname "$0")/.."

export PORT="${PORT:-3000}"
REPORT_PORT="${REPORT_PORT:-3002}"
export PEER_PORT="${PEER_PORT:-8002}"
REDIS_PORT="${REDIS_PORT:-6390}"
export DAPR_HTTP_PORT="${DAPR_HTTP_PORT:-3500}"
REPORT_DAPR_HTTP_PORT="${REPORT_DAPR_HTTP_PORT:-3501}"
RUN_DIR="${SAMPLE_RUN_DIR:-$PWD/.tmp/sample}"
export BASE_URL_MASTER_DATA="${BASE_URL_MASTER_DATA:-http://127.0.0.1:${PEER_PORT}/api/v1}"
# The same peer plays the terminal service (the cart reads its terminal and store there).
export BASE_URL_TERMINAL="${BASE_URL_TERMINAL:-http://127.0.0.1:${PEER_PORT}/api/v1}"
# Service credentials, random per run unless given: SECRET_KEY signs and verifies service tokens (the
# report's delivery-status callbacks to the cart, the stock monitor's WebSocket), PUBSUB_NOTIFY_API_KEY
# is the API key a callback may carry instead.
SECRET_KEY="${SECRET_KEY:-$(head -c 48 /dev/urandom | base64)}" && export SECRET_KEY # 64 bytes: more than HS256 needs (32)
PUBSUB_NOTIFY_API_KEY="${PUBSUB_NOTIFY_API_KEY:-$(head -c 18 /dev/urandom | base64)}" && export PUBSUB_NOTIFY_API_KEY
TS_NODE="node -r ts-node/register/transpile-only"

if [ -f "$RUN_DIR/run.pid" ] && kill -0 "$(cat "$RUN_DIR/run.pid")" 2>/dev/null; then
  echo "run.sh: the sample is running already (pid $(cat "$RUN_DIR/run.pid")); stop it first" >&2
  exit 1
fi
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/redis" "$RUN_DIR/resources"
echo $$ > "$RUN_DIR/run.pid"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for f in "$RUN_DIR"/*-sidecar.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$RUN_DIR/run.pid"
}
trap cleanup EXIT INT TERM

redis="${REDIS_SERVER_BIN:-$(command -v redis-server || true)}"
if [ -z "$redis" ]; then
  echo "run.sh: redis-server is missing: install Debian's redis-server package or set REDIS_SERVER_BIN" >&2
  exit 1
fi
daprd=""
if [ -n "${DAPRD_BIN:-}" ] && [ -x "$DAPRD_BIN" ]; then daprd="$DAPRD_BIN"
elif [ -x "$HOME/.dapr/bin/daprd" ]; then daprd="$HOME/.dapr/bin/daprd"
elif command -v go >/dev/null 2>&1; then
  echo "run.sh: building the test sidecar if needed (first build takes a few minutes)"
  daprd="$(bash test/dapr/build.sh | tail -n 1)"
elif [ -x test/dapr/.bin/daprd ]; then daprd="$PWD/test/dapr/.bin/daprd"
else
  echo "run.sh: no daprd found and none can be built: set DAPRD_BIN, or install Go" >&2
  exit 1
fi

# Redis with an append-only file, so that a restart keeps the streams and the carts.
"$redis" --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes --save '' --appendonly yes \
  --dir "$RUN_DIR/redis" --logfile "$RUN_DIR/redis.log" &
pids+=($!)
for _ in $(seq 1 50); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then break; fi
  sleep 0.1
done
for f in sample-app/components/*.yaml; do
  sed "s/__REDIS_HOST__/127.0.0.1:$REDIS_PORT/g" "$f" > "$RUN_DIR/resources/$(basename "$f")"
done

# What sidecar.sh needs to start (and stop) each sidecar.
write_sidecar() { # name app-id http-port grpc-port internal-grpc-port app-port
  cat > "$RUN_DIR/$1-sidecar.env" <<VARS
DAPRD='$daprd'
APP_ID='$2'
HTTP_PORT='$3'
GRPC_PORT='$4'
INTERNAL_GRPC_PORT='$5'
APP_PORT='$6'
RESOURCES='$RUN_DIR/resources'
CONFIG='$PWD/test/dapr/config.yaml'
LOG='$RUN_DIR/$1-sidecar.log'
VARS
}
write_sidecar cart cart "$DAPR_HTTP_PORT" "${DAPR_GRPC_PORT:-50001}" "${DAPR_INTERNAL_GRPC_PORT:-50002}" "$PORT"
write_sidecar report report "$REPORT_DAPR_HTTP_PORT" "${REPORT_DAPR_GRPC_PORT:-50011}" \
  "${REPORT_DAPR_INTERNAL_GRPC_PORT:-50012}" "$REPORT_PORT"

$TS_NODE sample-app/peer/master-data.peer.ts &
pids+=($!)
BASE_URL_CART="http://127.0.0.1:$PORT/api/v1" DAPR_HTTP_PORT="$REPORT_DAPR_HTTP_PORT" PORT="$REPORT_PORT" \
  $TS_NODE sample-app/report/main.ts &
pids+=($!)

# --- Real-time sample (sample-app/stock): the stock service serves its alert WebSocket on
# STOCK_PORT (8003); the stock monitor on MONITOR_PORT (3001) subscribes to it with RealtimeClient.
# SECRET_KEY (above) signs and verifies the monitor's service token.
export STOCK_PORT="${STOCK_PORT:-8003}" MONITOR_PORT="${MONITOR_PORT:-3001}"
export BASE_URL_STOCK="${BASE_URL_STOCK:-http://127.0.0.1:${STOCK_PORT}/api/v1}"
$TS_NODE sample-app/stock/stock-service/main.ts &
pids+=($!)
$TS_NODE sample-app/stock/monitor/main.ts &
pids+=($!)
# --- end of the real-time sample

$TS_NODE sample-app/main.ts &
pids+=($!)
SAMPLE_RUN_DIR="$RUN_DIR" bash sample-app/sidecar.sh start cart
SAMPLE_RUN_DIR="$RUN_DIR" bash sample-app/sidecar.sh start report
echo "run.sh: Redis on 127.0.0.1:$REDIS_PORT; sidecars cart (:$DAPR_HTTP_PORT) and report (:$REPORT_DAPR_HTTP_PORT), logs in $RUN_DIR"
echo "run.sh: cart on http://127.0.0.1:$PORT, report on http://127.0.0.1:$REPORT_PORT; Ctrl-C stops everything"
wait "${pids[-1]}"
