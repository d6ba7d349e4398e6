#!/usr/bin/env bash
# Stops or starts one sidecar of the running sample (sample-app/run.sh):
#   bash sample-app/sidecar.sh stop report     # the report service gets no events meanwhile
#   bash sample-app/sidecar.sh start report    # it reads on from where its consumer group stopped
# Each sidecar runs from what run.sh wrote in SAMPLE_RUN_DIR (.tmp/sample): <name>-sidecar.env.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR="${SAMPLE_RUN_DIR:-$PWD/.tmp/sample}"
action="${1:-}"; name="${2:-}"
env_file="$RUN_DIR/$name-sidecar.env"
pid_file="$RUN_DIR/$name-sidecar.pid"
if [ -z "$name" ] || [ ! -f "$env_file" ]; then
  echo "usage: sidecar.sh stop|start cart|report (with the sample running: npm run sample)" >&2
  exit 2
fi
# shellcheck disable=SC1090
. "$env_file"

case "$action" in
  stop)
    if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      pid="$(cat "$pid_file")"
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "sidecar.sh: $name's sidecar stopped"
    else
      echo "sidecar.sh: $name's sidecar is not running"
    fi
    rm -f "$pid_file"
    ;;
  start)
    if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      echo "sidecar.sh: $name's sidecar is running already"; exit 0
    fi
    DAPR_HOST_IP=127.0.0.1 nohup "$DAPRD" --app-id "$APP_ID" \
      --dapr-http-port "$HTTP_PORT" --dapr-grpc-port "$GRPC_PORT" --dapr-internal-grpc-port "$INTERNAL_GRPC_PORT" \
      --app-port "$APP_PORT" --app-protocol http \
      --dapr-listen-addresses 127.0.0.1 --dapr-internal-grpc-listen-address 127.0.0.1 \
      --enable-metrics=false --resources-path "$RESOURCES" --config "$CONFIG" --log-level warn \
      >> "$LOG" 2>&1 &
    echo $! > "$pid_file"
    for _ in $(seq 1 300); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null; then
        echo "sidecar.sh: $name's sidecar started on 127.0.0.1:$HTTP_PORT"; exit 0
      fi
      kill -0 "$(cat "$pid_file")" 2>/dev/null || { echo "sidecar.sh: $name's sidecar exited; see $LOG" >&2; exit 1; }
      sleep 0.1
    done
    echo "sidecar.sh: $name's sidecar did not open port $HTTP_PORT; see $LOG" >&2
    exit 1
    ;;
  *)
    echo "usage: sidecar.sh stop|start cart|report" >&2
    exit 2
    ;;
esac
