#!/usr/bin/env bash
# Runs the sample (docs/sample-app.md), each part its own process: Redis (the pub/sub streams and
# the state stores), the master-data and terminal peer, the cart service and the report service,
# each with its own Dapr sidecar (DAPRD_BIN, ~/.dapr/bin/daprd, the test sidecar built by
# test/dapr/build.sh, or built now when Go is installed), and the real-time pair (the stock service
# and its monitor).
#
#   bash sample-app/run.sh                            starts everything; prints "ready" once every
#                                                     service answers its health route; Ctrl-C stops all
#   bash sample-app/run.sh stop|start|restart NAME    one service, while the sample runs (from a second
#                                                     terminal); cart and report with their sidecars
#   bash sample-app/run.sh status                     what runs, and its health route's status
#
# NAME: master-data, cart, report, stock, monitor. `bash sample-app/sidecar.sh stop|start cart|report`
# stops or starts a sidecar alone.
#
# Ports (environment): PORT 3000 (cart), REPORT_PORT 3002, PEER_PORT 8002 (master-data), STOCK_PORT
# 8003, MONITOR_PORT 3001, REDIS_PORT 6390, DAPR_HTTP_PORT 3500 (cart's sidecar),
# REPORT_DAPR_HTTP_PORT 3501. SAMPLE_RUN_DIR (.tmp/sample) holds each service's log
# (<name>.log), the per-run credentials (secrets.env, mode 600), the report's received logs
# (report-tranlogs.jsonl) and Redis' append-only file.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_DIR="${SAMPLE_RUN_DIR:-$PWD/.tmp/sample}"
SERVICES=(master-data cart report stock monitor)
TS_NODE=(node -r ts-node/register/transpile-only)

running() { # pid-file
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# The root URL of a service, and the health route run.sh waits for.
url_of() {
  case "$1" in
    master-data) echo "http://127.0.0.1:$PEER_PORT" ;;
    cart) echo "http://127.0.0.1:$PORT" ;;
    report) echo "http://127.0.0.1:$REPORT_PORT" ;;
    stock) echo "http://127.0.0.1:$STOCK_PORT" ;;
    monitor) echo "http://127.0.0.1:$MONITOR_PORT" ;;
  esac
}
has_sidecar() { [ "$1" = cart ] || [ "$1" = report ]; }

# The HTTP status of GET url (000 when nothing answers).
status_of() {
  node -e '
    const req = require("node:http").get(process.argv[1], { timeout: 2000 }, (res) => {
      res.resume();
      process.stdout.write(String(res.statusCode));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => process.stdout.write("000"));
  ' "$1"
}

# Waits until GET url answers 200; fails when the process of pid-file exits or after `seconds`.
wait_for() { # name url pid-file seconds
  local deadline=$((SECONDS + $4))
  while [ "$SECONDS" -lt "$deadline" ]; do
    [ "$(status_of "$2")" = 200 ] && return 0
    if ! running "$3"; then
      echo "run.sh: $1 exited; see $RUN_DIR/$1.log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "run.sh: $1 did not answer 200 on $2 within $4 s; see $RUN_DIR/$1.log" >&2
  return 1
}

# Starts one service's process in the background, its output appended to <name>.log.
start_process() {
  local name="$1" log="$RUN_DIR/$1.log" pid_file="$RUN_DIR/$1.pid"
  if running "$pid_file"; then
    echo "run.sh: $name runs already (pid $(cat "$pid_file"))"
    return 0
  fi
  case "$name" in
    master-data) nohup "${TS_NODE[@]}" sample-app/peer/master-data.peer.ts >>"$log" 2>&1 & ;;
    cart)
      DAPR_HTTP_PORT="$DAPR_HTTP_PORT" PORT="$PORT" nohup "${TS_NODE[@]}" sample-app/main.ts >>"$log" 2>&1 &
      ;;
    report)
      BASE_URL_CART="http://127.0.0.1:$PORT/api/v1" DAPR_HTTP_PORT="$REPORT_DAPR_HTTP_PORT" PORT="$REPORT_PORT" \
        REPORT_STORE_FILE="$RUN_DIR/report-tranlogs.jsonl" \
        nohup "${TS_NODE[@]}" sample-app/report/main.ts >>"$log" 2>&1 &
      ;;
    stock) nohup "${TS_NODE[@]}" sample-app/stock/stock-service/main.ts >>"$log" 2>&1 & ;;
    monitor) nohup "${TS_NODE[@]}" sample-app/stock/monitor/main.ts >>"$log" 2>&1 & ;;
  esac
  echo $! >"$pid_file"
}

# Waits for a started service to listen, starts its sidecar, and waits for its readiness.
await_service() {
  local name="$1" pid_file="$RUN_DIR/$1.pid" base
  base="$(url_of "$name")"
  wait_for "$name" "$base/health/live" "$pid_file" 180
  if has_sidecar "$name"; then
    SAMPLE_RUN_DIR="$RUN_DIR" bash sample-app/sidecar.sh start "$name" >/dev/null
  fi
  wait_for "$name" "$base/health/ready" "$pid_file" 60
}

stop_service() {
  local name="$1" pid_file="$RUN_DIR/$1.pid" pid
  if has_sidecar "$name"; then SAMPLE_RUN_DIR="$RUN_DIR" bash sample-app/sidecar.sh stop "$name" >/dev/null; fi
  if running "$pid_file"; then
    pid="$(cat "$pid_file")"
    kill "$pid"
    # The service's own shutdown (Nest's hooks) is bounded; SIGKILL after 30 s.
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    echo "run.sh: $name stopped"
  else
    echo "run.sh: $name is not running"
  fi
  rm -f "$pid_file"
}

# --- one service of the running sample: stop, start, restart, status
if [ $# -gt 0 ]; then
  action="$1"
  name="${2:-}"
  usage="usage: bash sample-app/run.sh [stop|start|restart NAME | status], NAME one of: ${SERVICES[*]}"
  if ! running "$RUN_DIR/run.pid" || [ ! -f "$RUN_DIR/run.env" ]; then
    echo "run.sh: the sample is not running (start it with npm run sample)" >&2
    exit 1
  fi
  # shellcheck disable=SC1091
  . "$RUN_DIR/run.env"
  # shellcheck disable=SC1091
  set -a && . "$RUN_DIR/secrets.env" && set +a
  case "$action" in
    status)
      for s in "${SERVICES[@]}"; do
        if running "$RUN_DIR/$s.pid"; then state="running, /health/ready $(status_of "$(url_of "$s")/health/ready")"
        else state="stopped"; fi
        printf '  %-12s %-24s %s\n' "$s" "$(url_of "$s")" "$state"
      done
      exit 0
      ;;
    stop | start | restart) ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
  if [[ ! " ${SERVICES[*]} " =~ " $name " ]]; then
    echo "$usage" >&2
    exit 2
  fi
  if [ "$action" != start ]; then stop_service "$name"; fi
  if [ "$action" != stop ]; then
    start_process "$name"
    await_service "$name"
    echo "run.sh: $name ready on $(url_of "$name")"
  fi
  exit 0
fi

# --- the whole sample
PORT="${PORT:-3000}"
REPORT_PORT="${REPORT_PORT:-3002}"
PEER_PORT="${PEER_PORT:-8002}"
STOCK_PORT="${STOCK_PORT:-8003}"
MONITOR_PORT="${MONITOR_PORT:-3001}"
REDIS_PORT="${REDIS_PORT:-6390}"
DAPR_HTTP_PORT="${DAPR_HTTP_PORT:-3500}"
REPORT_DAPR_HTTP_PORT="${REPORT_DAPR_HTTP_PORT:-3501}"
BASE_URL_MASTER_DATA="${BASE_URL_MASTER_DATA:-http://127.0.0.1:${PEER_PORT}/api/v1}"
# The same peer plays the terminal service (the cart reads its terminal and store there).
BASE_URL_TERMINAL="${BASE_URL_TERMINAL:-http://127.0.0.1:${PEER_PORT}/api/v1}"
BASE_URL_STOCK="${BASE_URL_STOCK:-http://127.0.0.1:${STOCK_PORT}/api/v1}"

if running "$RUN_DIR/run.pid"; then
  echo "run.sh: the sample is running already (pid $(cat "$RUN_DIR/run.pid")); stop it first" >&2
  exit 1
fi
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/redis" "$RUN_DIR/resources"
echo $$ >"$RUN_DIR/run.pid"

# Stops every process of the run, including those `run.sh start|restart NAME` started: SIGTERM
# (each service's own bounded shutdown), SIGKILL to what still runs after 30 s.
stop_all() {
  trap - EXIT
  local pids=() f p alive
  for f in "$RUN_DIR"/*.pid; do
    if [ -f "$f" ] && [ "$f" != "$RUN_DIR/run.pid" ]; then pids+=("$(cat "$f")"); fi
  done
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 300); do
      alive=()
      for p in "${pids[@]}"; do if kill -0 "$p" 2>/dev/null; then alive+=("$p"); fi; done
      [ ${#alive[@]} -eq 0 ] && break
      sleep 0.1
    done
    [ ${#alive[@]} -eq 0 ] || kill -9 "${alive[@]}" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR"/*.pid
  echo "run.sh: stopped"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

# Service credentials, random per run unless given: SECRET_KEY signs and verifies service tokens
# (the report's delivery-status callbacks to the cart, the stock monitor's WebSocket),
# PUBSUB_NOTIFY_API_KEY is the API key a callback may carry instead. Written to secrets.env (mode
# 600) for the walkthrough and for `run.sh restart`; never printed.
SECRET_KEY="${SECRET_KEY:-$(head -c 48 /dev/urandom | base64)}" # 64 characters: more than HS256 needs (32 bytes)
PUBSUB_NOTIFY_API_KEY="${PUBSUB_NOTIFY_API_KEY:-$(head -c 18 /dev/urandom | base64)}"
(
  umask 077
  {
    echo "# The sample's credentials for this run (sample-app/run.sh). Source it: . $RUN_DIR/secrets.env"
    printf 'SECRET_KEY=%q\nPUBSUB_NOTIFY_API_KEY=%q\n' "$SECRET_KEY" "$PUBSUB_NOTIFY_API_KEY"
  } >"$RUN_DIR/secrets.env"
)
export SECRET_KEY PUBSUB_NOTIFY_API_KEY
# What `run.sh start|restart NAME` needs to start a service as this run did (no credentials here).
for v in PORT REPORT_PORT PEER_PORT STOCK_PORT MONITOR_PORT REDIS_PORT DAPR_HTTP_PORT REPORT_DAPR_HTTP_PORT \
  BASE_URL_MASTER_DATA BASE_URL_TERMINAL BASE_URL_STOCK; do
  printf 'export %s=%q\n' "$v" "${!v}"
done >"$RUN_DIR/run.env"
# shellcheck disable=SC1091
. "$RUN_DIR/run.env"

# Redis with an append-only file, so that a restart keeps the streams and the carts.
"$redis" --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes --save '' --appendonly yes \
  --dir "$RUN_DIR/redis" --logfile "$RUN_DIR/redis.log" &
echo $! >"$RUN_DIR/redis.pid"
for _ in $(seq 1 50); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then break; fi
  sleep 0.1
done
for f in sample-app/components/*.yaml; do
  sed "s/__REDIS_HOST__/127.0.0.1:$REDIS_PORT/g" "$f" >"$RUN_DIR/resources/$(basename "$f")"
done

# What sidecar.sh needs to start (and stop) each sidecar.
write_sidecar() { # name app-id http-port grpc-port internal-grpc-port app-port
  cat >"$RUN_DIR/$1-sidecar.env" <<VARS
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

echo "run.sh: starting Redis (127.0.0.1:$REDIS_PORT) and ${SERVICES[*]}; logs in $RUN_DIR/<name>.log"
for s in "${SERVICES[@]}"; do start_process "$s"; done
for s in "${SERVICES[@]}"; do await_service "$s"; done

echo "run.sh: ready: every service answers its /health/ready with 200"
printf '  %-12s %s\n' \
  cart "http://127.0.0.1:$PORT/api/v1/tenants/T1/stores/S1/terminals/1 (sidecar app id cart, :$DAPR_HTTP_PORT)" \
  report "http://127.0.0.1:$REPORT_PORT/api/v1/tenants/T1/stores/S1 (sidecar app id report, :$REPORT_DAPR_HTTP_PORT)" \
  master-data "http://127.0.0.1:$PEER_PORT/api/v1 (also the terminal service)" \
  stock "http://127.0.0.1:$STOCK_PORT/api/v1 (alerts on ws://127.0.0.1:$STOCK_PORT/api/v1/ws/{tenant}/{store})" \
  monitor "http://127.0.0.1:$MONITOR_PORT/api/v1/alerts"
echo "run.sh: credentials of this run in $RUN_DIR/secrets.env (mode 600); logs in $RUN_DIR"
echo "run.sh: one service: bash sample-app/run.sh stop|start|restart NAME; Ctrl-C stops everything"

# Runs until Ctrl-C (or SIGTERM); `run.sh stop` of every service leaves it running.
while true; do sleep 1; done
