#!/usr/bin/env bash
# Builds the test sidecar: the project's own minimal daprd (test/dapr/sidecar, Dapr Go modules from
# the Go module registry) into test/dapr/.bin/daprd. Skips the build when the binary is newer than
# its sources. Prints the binary's path as its last line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/sidecar"
out="$here/.bin/daprd"

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is not installed; it is needed to build the test sidecar (or set DAPRD_BIN to a daprd)" >&2
  exit 1
fi

if [ -x "$out" ] && [ -z "$(find "$src" -newer "$out" -type f -print -quit)" ]; then
  echo "$out"
  exit 0
fi

mkdir -p "$here/.bin"
started=$(date +%s)
echo "build.sh: building the test sidecar (first build downloads the Dapr modules; several minutes)" >&2
cd "$src"
# -mod=readonly: go.mod and go.sum are committed and must not change during a build.
CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "-s -w" -o "$out.tmp" .
mv "$out.tmp" "$out"
echo "build.sh: built in $(( $(date +%s) - started )) s" >&2
echo "$out"
