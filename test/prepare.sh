#!/usr/bin/env bash
# Makes sure the outside parts the tests and the bench use exist, and fails loudly, naming what is
# missing, when they cannot be had (nothing quietly skips). Run by the npm scripts before they start
# (`pretest`, `pretest:dapr`, `pretest:e2e`, `pretest:faults`, `prebench`):
#   bash test/prepare.sh                          # all four (npm test)
#   bash test/prepare.sh redis postgres sidecar   # the Dapr suites and the faults
#   bash test/prepare.sh sidecar         # the sidecar only (the bench, the sample-app e2e)
#  - redis: Debian's redis-server (REDIS_SERVER_BIN to use another), for the tests whose state must
#    survive a sidecar restart and the Redis pub/sub;
#  - postgres: the machine's PostgreSQL server binaries (initdb, postgres, psql in PG_BIN_DIR or
#    the newest /usr/lib/postgresql/<major>/bin) and the `postgres` user they run as (they refuse
#    root); the Dapr suites start their own server from them (test/support/postgres.ts);
#  - sidecar: a daprd: DAPRD_BIN, ~/.dapr/bin/daprd, or the project's own test sidecar built by
#    test/dapr/build.sh (needs Go);
#  - compat: the packed package installed into a Nest 11 and a Nest 12 app (test/compat/install.sh;
#    needs the npm registry unless nothing changed since the last install);
#  - kafka: the jars of one Kafka broker (test/brokers/kafka-pom.xml) fetched from Maven Central
#    with Maven into test/brokers/.cache/ (once); Java 17+ runs it;
#  - rabbitmq: Debian's rabbitmq-server (installed when missing, as root); the tests run each node
#    themselves, never the system service.
set -euo pipefail
cd "$(dirname "$0")/.."

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(redis postgres sidecar compat)

prepare_redis() {
  if [ -n "${REDIS_SERVER_BIN:-}" ]; then
    [ -x "$REDIS_SERVER_BIN" ] || { echo "prepare: REDIS_SERVER_BIN=$REDIS_SERVER_BIN is not an executable" >&2; exit 1; }
    return
  fi
  command -v redis-server >/dev/null 2>&1 && return
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "prepare: installing redis-server (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  else
    echo "prepare: redis-server is missing: install Debian's redis-server package or set REDIS_SERVER_BIN" >&2
    exit 1
  fi
}

prepare_postgres() {
  local dir="${PG_BIN_DIR:-}"
  if [ -z "$dir" ]; then
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -1 || true)
  fi
  if [ -z "$dir" ]; then
    echo "prepare: PostgreSQL server binaries are missing (no /usr/lib/postgresql/<major>/bin): install Debian's postgresql package or set PG_BIN_DIR" >&2
    exit 1
  fi
  local missing=()
  for bin in initdb postgres psql; do [ -x "$dir/$bin" ] || missing+=("$bin"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "prepare: PostgreSQL binaries missing in $dir: ${missing[*]}" >&2
    exit 1
  fi
  if [ "$(id -u)" = "0" ]; then
    id -u postgres >/dev/null 2>&1 || { echo "prepare: the postgres user is missing (PostgreSQL refuses to run as root; the tests run it as postgres)" >&2; exit 1; }
    command -v runuser >/dev/null 2>&1 || { echo "prepare: runuser is missing (the tests run PostgreSQL as the postgres user through it)" >&2; exit 1; }
  fi
}

prepare_sidecar() {
  if [ -n "${DAPRD_BIN:-}" ]; then
    [ -x "$DAPRD_BIN" ] || { echo "prepare: DAPRD_BIN=$DAPRD_BIN is not an executable" >&2; exit 1; }
  elif [ ! -x "$HOME/.dapr/bin/daprd" ]; then
    # build.sh says what is missing (Go) and exits non-zero; its progress goes to stderr.
    bash test/dapr/build.sh >/dev/null
  fi
}

prepare_kafka() {
  local version lib
  version=$(sed -n 's/^export const KAFKA_VERSION = .\([0-9.]*\).;$/\1/p' test/brokers/kafka.ts)
  lib="test/brokers/.cache/kafka-$version"
  command -v java >/dev/null 2>&1 || [ -n "${JAVA_HOME:-}" ] || { echo "prepare: java is missing: Kafka needs Java 17 or later" >&2; exit 1; }
  if ls "$lib"/kafka_2.13-*.jar >/dev/null 2>&1; then return; fi
  command -v mvn >/dev/null 2>&1 || { echo "prepare: mvn is missing: Maven fetches the Kafka $version jars from Maven Central" >&2; exit 1; }
  echo "prepare: fetching the Kafka $version jars (Maven Central)"
  mvn -q -f test/brokers/kafka-pom.xml dependency:copy-dependencies -DoutputDirectory="$PWD/$lib.tmp" -DincludeScope=runtime
  rm -rf "$lib" && mv "$lib.tmp" "$lib"
}

prepare_rabbitmq() {
  if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "prepare: installing rabbitmq-server (Debian package)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq rabbitmq-server >/dev/null
    else
      echo "prepare: rabbitmq-server is missing: install Debian's rabbitmq-server package (as root)" >&2
      exit 1
    fi
  fi
  # The package may have started its system service: the tests run their own nodes.
  if command -v systemctl >/dev/null 2>&1; then systemctl stop rabbitmq-server >/dev/null 2>&1 || true; fi
  id -u rabbitmq >/dev/null 2>&1 || { echo "prepare: the rabbitmq user is missing: reinstall rabbitmq-server" >&2; exit 1; }
}

for part in "${parts[@]}"; do
  case "$part" in
    redis) prepare_redis ;;
    postgres) prepare_postgres ;;
    sidecar) prepare_sidecar ;;
    compat) bash test/compat/install.sh ;;
    kafka) prepare_kafka ;;
    rabbitmq) prepare_rabbitmq ;;
    *) echo "prepare: unknown part \"$part\" (redis, postgres, sidecar, compat, kafka, rabbitmq)" >&2; exit 2 ;;
  esac
done
echo "prepare: ready: ${parts[*]}"
