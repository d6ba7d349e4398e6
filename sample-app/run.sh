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
#   SAMPLE_PARTS=production bash sample-app/run.sh    the same sample with the cart's and the report's
#                                                     state on PostgreSQL and their pub/sub on Kafka
#                                                     (sample-app/components-production) instead of Redis
#
# NAME: master-data, cart, report, stock, monitor. `bash sample-app/sidecar.sh stop|start cart|report`
# stops or starts a sidecar alone.
#
# SAMPLE_PARTS: redis (the default: Redis, sample-app/components) or production (PostgreSQL from the
# machine's server binaries, PG_BIN_DIR or the newest /usr/lib/postgresql/<major>/bin, run as the
# postgres user; one Kafka KRaft node from the jars `bash test/prepare.sh kafka` caches, run with
# java; sample-app/components-production).
#
# Ports (environment): PORT 3000 (cart), REPORT_PORT 3002, PEER_PORT 8002 (master-data), STOCK_PORT
# 8003, MONITOR_PORT 3001, REDIS_PORT 6390, POSTGRES_PORT 5490, KAFKA_PORT 9192 (and
# KAFKA_CONTROLLER_PORT 9193), DAPR_HTTP_PORT 3500 (cart's sidecar), REPORT_DAPR_HTTP_PORT 3501.
# SAMPLE_RUN_DIR (.tmp/sample) holds each service's log (<name>.log), the per-run credentials
# (secrets.env, mode 600), the report's received logs (report-tranlogs.jsonl) and the data of Redis
# (its append-only file), or of PostgreSQL and Kafka.
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
      if [ "${SAMPLE_PARTS:-redis}" = production ]; then
        echo "  cart and report on PostgreSQL (127.0.0.1:$POSTGRES_PORT) and Kafka (127.0.0.1:$KAFKA_PORT)"
      else
        echo "  cart and report on Redis (127.0.0.1:$REDIS_PORT)"
      fi
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
SAMPLE_PARTS="${SAMPLE_PARTS:-redis}"
PORT="${PORT:-3000}"
REPORT_PORT="${REPORT_PORT:-3002}"
PEER_PORT="${PEER_PORT:-8002}"
STOCK_PORT="${STOCK_PORT:-8003}"
MONITOR_PORT="${MONITOR_PORT:-3001}"
REDIS_PORT="${REDIS_PORT:-6390}"
POSTGRES_PORT="${POSTGRES_PORT:-5490}"
KAFKA_PORT="${KAFKA_PORT:-9192}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9193}"
DAPR_HTTP_PORT="${DAPR_HTTP_PORT:-3500}"
REPORT_DAPR_HTTP_PORT="${REPORT_DAPR_HTTP_PORT:-3501}"
BASE_URL_MASTER_DATA="${BASE_URL_MASTER_DATA:-http://127.0.0.1:${PEER_PORT}/api/v1}"
# The same peer plays the terminal service (the cart reads its terminal and store there).
BASE_URL_TERMINAL="${BASE_URL_TERMINAL:-http://127.0.0.1:${PEER_PORT}/api/v1}"
BASE_URL_STOCK="${BASE_URL_STOCK:-http://127.0.0.1:${STOCK_PORT}/api/v1}"

case "$SAMPLE_PARTS" in
  redis) COMPONENTS=sample-app/components ;;
  production) COMPONENTS=sample-app/components-production ;;
  *)
    echo "run.sh: SAMPLE_PARTS=$SAMPLE_PARTS: use redis (the default) or production (PostgreSQL and Kafka)" >&2
    exit 2
    ;;
esac

if running "$RUN_DIR/run.pid"; then
  echo "run.sh: the sample is running already (pid $(cat "$RUN_DIR/run.pid")); stop it first" >&2
  exit 1
fi

# What the parts need, checked before anything starts.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
need_free_port() { # variable
  if port_taken "${!1}"; then
    echo "run.sh: port ${!1} (127.0.0.1) is in use: stop what listens there or set $1" >&2
    exit 1
  fi
}
if [ "$SAMPLE_PARTS" = redis ]; then
  redis="${REDIS_SERVER_BIN:-$(command -v redis-server || true)}"
  if [ -z "$redis" ]; then
    echo "run.sh: redis-server is missing: install Debian's redis-server package or set REDIS_SERVER_BIN" >&2
    exit 1
  fi
  need_free_port REDIS_PORT
else
  # PostgreSQL: the machine's server binaries; initdb and postgres refuse root, so as root they run as
  # the postgres user.
  pg_bin="${PG_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -n 1 || true)}"
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ] || [ ! -x "$pg_bin/pg_ctl" ]; then
    echo "run.sh: PostgreSQL's server binaries (initdb, pg_ctl) are missing: install Debian's postgresql package or set PG_BIN_DIR" >&2
    exit 1
  fi
  as_postgres=()
  if [ "$(id -u)" = 0 ]; then
    if ! id -u postgres >/dev/null 2>&1 || ! command -v runuser >/dev/null 2>&1; then
      echo "run.sh: PostgreSQL refuses to run as root, and the postgres user or runuser is missing: install Debian's postgresql package" >&2
      exit 1
    fi
    as_postgres=(runuser -u postgres --)
  fi
  # Kafka: the jars test/prepare.sh fetches once from Maven Central, the version the tests run.
  kafka_version=$(sed -n 's/^export const KAFKA_VERSION = .\([0-9.]*\).;$/\1/p' test/brokers/kafka.ts)
  kafka_lib="$PWD/test/brokers/.cache/kafka-$kafka_version"
  java="${JAVA_HOME:+$JAVA_HOME/bin/java}"
  java="${java:-$(command -v java || true)}"
  if [ -z "$java" ] || [ ! -x "$java" ]; then
    echo "run.sh: java is missing: Kafka needs Java 17 or later (install a JDK, e.g. Debian's openjdk-17-jre-headless, or set JAVA_HOME)" >&2
    exit 1
  fi
  if ! ls "$kafka_lib"/kafka_2.13-*.jar >/dev/null 2>&1; then
    echo "run.sh: the Kafka $kafka_version jars are not in $kafka_lib: run \"bash test/prepare.sh kafka\" (Maven fetches them from Maven Central, once)" >&2
    exit 1
  fi
  need_free_port POSTGRES_PORT
  need_free_port KAFKA_PORT
  need_free_port KAFKA_CONTROLLER_PORT
fi

rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/resources"
echo $$ >"$RUN_DIR/run.pid"

# The stores and brokers the services use: stopped after them.
INFRA=(redis postgres kafka)

# SIGTERM to the processes of pid files (SIGINT to PostgreSQL: its fast shutdown; SIGTERM would
# wait for every client to disconnect), then waits, and SIGKILLs what still runs after 30 s.
stop_pids() { # pid-file...
  local pids=() f p alive
  for f in "$@"; do
    [ -f "$f" ] || continue
    p="$(cat "$f")"
    pids+=("$p")
    if [ "$f" = "$RUN_DIR/postgres.pid" ]; then kill -INT "$p" 2>/dev/null || true; else kill "$p" 2>/dev/null || true; fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for _ in $(seq 1 300); do
    alive=()
    for p in "${pids[@]}"; do if kill -0 "$p" 2>/dev/null; then alive+=("$p"); fi; done
    [ ${#alive[@]} -eq 0 ] && return 0
    sleep 0.1
  done
  kill -9 "${alive[@]}" 2>/dev/null || true
}

# Stops every process of the run, including those `run.sh start|restart NAME` started: SIGTERM
# (each service's own bounded shutdown), SIGKILL to what still runs after 30 s; then the stores
# and brokers the same way.
stop_all() {
  trap - EXIT
  local services=() infra=() f
  for f in "$RUN_DIR"/*.pid; do
    [ -f "$f" ] && [ "$f" != "$RUN_DIR/run.pid" ] || continue
    if [[ " ${INFRA[*]} " =~ " $(basename "$f" .pid) " ]]; then infra+=("$f"); else services+=("$f"); fi
  done
  stop_pids "${services[@]}"
  stop_pids "${infra[@]}"
  rm -f "$RUN_DIR"/*.pid
  echo "run.sh: stopped"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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
for v in SAMPLE_PARTS PORT REPORT_PORT PEER_PORT STOCK_PORT MONITOR_PORT REDIS_PORT POSTGRES_PORT KAFKA_PORT \
  DAPR_HTTP_PORT REPORT_DAPR_HTTP_PORT BASE_URL_MASTER_DATA BASE_URL_TERMINAL BASE_URL_STOCK; do
  printf 'export %s=%q\n' "$v" "${!v}"
done >"$RUN_DIR/run.env"
# shellcheck disable=SC1091
. "$RUN_DIR/run.env"

# Redis with an append-only file, so that a restart keeps the streams and the carts.
start_redis() {
  mkdir -p "$RUN_DIR/redis"
  "$redis" --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes --save '' --appendonly yes \
    --dir "$RUN_DIR/redis" --logfile "$RUN_DIR/redis.log" &
  echo $! >"$RUN_DIR/redis.pid"
  for _ in $(seq 1 50); do
    if port_taken "$REDIS_PORT"; then break; fi
    sleep 0.1
  done
}

# PostgreSQL on 127.0.0.1 only (its socket in its own folder), trust authentication for the
# postgres role, its data in $RUN_DIR/postgres (owned by the postgres user when run as root).
start_postgres() {
  local dir="$RUN_DIR/postgres"
  mkdir -p "$dir/socket"
  touch "$RUN_DIR/postgres.log"
  if [ ${#as_postgres[@]} -gt 0 ]; then chown -R postgres: "$dir" "$RUN_DIR/postgres.log"; fi
  if ! "${as_postgres[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync \
    >>"$RUN_DIR/postgres.log" 2>&1; then
    echo "run.sh: initdb failed; see $RUN_DIR/postgres.log" >&2
    exit 1
  fi
  # pg_ctl starts the server in a session of its own (Ctrl-C does not reach it: stop_all stops it).
  if ! "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$RUN_DIR/postgres.log" -w -t 60 \
    -o "-p $POSTGRES_PORT -k $dir/socket -c listen_addresses=127.0.0.1" start >/dev/null; then
    echo "run.sh: PostgreSQL did not start on 127.0.0.1:$POSTGRES_PORT; see $RUN_DIR/postgres.log" >&2
    exit 1
  fi
  head -n 1 "$dir/data/postmaster.pid" >"$RUN_DIR/postgres.pid"
}

# One Kafka node in KRaft mode (broker and controller in one process) on 127.0.0.1, its log
# directory in $RUN_DIR/kafka; every write flushed before it is acknowledged.
start_kafka() {
  local dir="$RUN_DIR/kafka" cluster
  mkdir -p "$dir"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
num.partitions=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=1
PROPS
  cluster=$("$java" -cp "$kafka_lib/*" kafka.tools.StorageTool random-uuid 2>>"$RUN_DIR/kafka.log" | tail -n 1)
  if ! "$java" -cp "$kafka_lib/*" kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" \
    >>"$RUN_DIR/kafka.log" 2>&1; then
    echo "run.sh: formatting Kafka's log directory failed; see $RUN_DIR/kafka.log" >&2
    exit 1
  fi
  LOG_DIR="$dir/logs" "$java" -Xmx512m -Xms128m -XX:+UseSerialGC -cp "$kafka_lib/*" kafka.Kafka \
    "$dir/server.properties" >>"$RUN_DIR/kafka.log" 2>&1 &
  echo $! >"$RUN_DIR/kafka.pid"
  for _ in $(seq 1 900); do
    port_taken "$KAFKA_PORT" && return 0
    if ! running "$RUN_DIR/kafka.pid"; then
      echo "run.sh: Kafka exited; see $RUN_DIR/kafka.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "run.sh: Kafka did not listen on 127.0.0.1:$KAFKA_PORT within 90 s; see $RUN_DIR/kafka.log" >&2
  exit 1
}

if [ "$SAMPLE_PARTS" = redis ]; then
  parts="Redis (127.0.0.1:$REDIS_PORT)"
  echo "run.sh: starting $parts"
  start_redis
else
  parts="PostgreSQL (127.0.0.1:$POSTGRES_PORT) and Kafka $kafka_version (127.0.0.1:$KAFKA_PORT)"
  echo "run.sh: starting $parts"
  start_postgres
  start_kafka
fi
for f in "$COMPONENTS"/*.yaml; do
  sed -e "s/__REDIS_HOST__/127.0.0.1:$REDIS_PORT/g" \
    -e "s/__POSTGRES_CONNECTION__/host=127.0.0.1 port=$POSTGRES_PORT user=postgres dbname=postgres sslmode=disable/g" \
    -e "s/__KAFKA_BROKERS__/127.0.0.1:$KAFKA_PORT/g" "$f" >"$RUN_DIR/resources/$(basename "$f")"
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

echo "run.sh: starting ${SERVICES[*]} (components: $COMPONENTS); logs in $RUN_DIR/<name>.log"
for s in "${SERVICES[@]}"; do start_process "$s"; done
for s in "${SERVICES[@]}"; do await_service "$s"; done

echo "run.sh: ready: every service answers its /health/ready with 200 (cart and report on $parts)"
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
