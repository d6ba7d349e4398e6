#!/usr/bin/env bash
# Packs kugel-comms (`npm pack`) and installs the tarball into the two compat apps the way a user
# does: `npm install <tarball>`, no --legacy-peer-deps, into a Nest 11 app (CommonJS) and a Nest 12
# app (ESM), whose pinned dependencies come from the registry through their committed lockfiles.
# Fails when npm reports ERESOLVE or `npm ls` finds an unmet or invalid peer. test/compat/compat.spec.ts
# then builds and runs the installed apps (no network needed there).
#
# Needs the package registry the first time (run it before the loopback-only namespace; .ci/run
# and test/prepare.sh do). Idempotent: an app is reinstalled only when its lockfile or the
# tarball's sha256 changed, and the library is rebuilt only when a source is newer than the build.
#
# The apps are installed outside the repository (KUGEL_COMPAT_DIR, default under ~/.cache), so that
# nothing resolves from the repository's own node_modules. The location and the hashes are written
# to .tmp/compat/state.json for the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd -P)"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
apps=(nest11 nest12)
key="$(printf '%s' "$root" | sha256sum | cut -c1-12)"
dir="${KUGEL_COMPAT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kugel-comms-compat/$key}"
mkdir -p "$dir" .tmp/compat
say() { echo "compat: $*" >&2; }

# What the tarball is made of; the tests compare these hashes to find a stale install.
sources() {
  {
    find lib -name '*.ts' ! -name '*.spec.ts'
    echo scripts/esm-entry.mjs
    printf '%s\n' package.json tsconfig.json tsconfig.build.json nest-cli.json README.md
  } | LC_ALL=C sort
}

# 1. The build, when a source is newer than it (the README is packed, not built).
if [ ! -f dist/lib/index.mjs ] || [ -n "$(sources | grep -vx README.md | xargs -I{} find {} -newer dist/lib/index.mjs | head -1)" ]; then
  say "building the library"
  npm run build >/dev/null
fi

# 2. The tarball (npm pack is reproducible: same files, same bytes). The build is current (step
# 1), so package.json's prepack (a build, for anyone who packs by hand) is not run again.
tarball="$(npm pack --silent --ignore-scripts --pack-destination "$dir" | tail -1)"
tarball="$dir/$tarball"
tar_sha="$(sha256sum "$tarball" | cut -d' ' -f1)"

# 3. Each app: a fresh `npm ci` when its lockfile changed, `npm install <tarball>` when the tarball did.
for app in "${apps[@]}"; do
  src="test/compat/$app"
  work="$dir/$app"
  lock_sha="$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)"
  stamp="lock=$lock_sha tarball=$tar_sha"
  if [ -f "$work/.compat-stamp" ] && [ "$(cat "$work/.compat-stamp")" = "$stamp" ]; then
    say "$app: up to date ($(basename "$tarball") sha256 ${tar_sha:0:12})"
    continue
  fi
  log="$root/.tmp/compat/$app-install.log"
  : >"$log"
  if [ ! -f "$work/.compat-stamp" ] || ! grep -q "lock=$lock_sha " "$work/.compat-stamp"; then
    say "$app: npm ci (pinned Nest dependencies from the registry)"
    rm -rf "$work"
    mkdir -p "$work"
    cp "$src/package.json" "$src/package-lock.json" "$work/"
    (cd "$work" && npm ci --no-audit --no-fund) >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  fi
  say "$app: npm install $(basename "$tarball") (no --legacy-peer-deps)"
  (cd "$work" && npm install --prefer-offline --no-audit --no-fund "$tarball") >>"$log" 2>&1 || {
    cat "$log" >&2
    say "$app: npm install of the packed kugel-comms failed"
    exit 1
  }
  if grep -q ERESOLVE "$log"; then
    cat "$log" >&2
    say "$app: npm reported ERESOLVE: the peer ranges do not accept this app's Nest packages"
    exit 1
  fi
  (cd "$work" && npm ls --all >/dev/null 2>>"$log") || {
    cat "$log" >&2
    (cd "$work" && npm ls --all 2>&1 | grep -E 'invalid|UNMET|missing' >&2) || true
    say "$app: npm ls finds an invalid or missing dependency"
    exit 1
  }
  (cd "$work" && npm ls kugel-comms @nestjs/core @nestjs/terminus --depth=0) >&2
  echo "$stamp" >"$work/.compat-stamp"
done

# 4. For the tests: where the apps are, and what the installed tarball was made of.
{
  printf '{\n  "dir": "%s",\n  "tarball": "%s",\n  "tarballSha256": "%s",\n  "apps": ["nest11", "nest12"],\n  "sources": {\n' \
    "$dir" "$tarball" "$tar_sha"
  sources | xargs sha256sum | awk '{ printf "%s    \"%s\": \"%s\"", (NR > 1 ? ",\n" : ""), $2, $1 }'
  printf '\n  }\n}\n'
} >.tmp/compat/state.json
say "ready: $dir"
