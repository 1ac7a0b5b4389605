#!/usr/bin/env bash
# Installs Ceph's radosgw and the monitor/OSD daemons it needs from Debian, for the throwaway S3
# peer the tests start (test/support/radosgw.ts). Idempotent and quiet: does nothing when every
# package is already installed, runs `apt-get update` only when one is missing. Needs root (CI and
# the dev container run as root). Usage: bash test/support/radosgw/install.sh
set -euo pipefail

packages=(radosgw ceph-mon ceph-osd ceph-common)

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

fail() {
  echo "radosgw install: $*" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found; install ${missing[*]} (Ceph, Debian bookworm) by hand."
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "must run as root (or with sudo available) to install ${missing[*]}."
  sudo=(sudo)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
  cat "$log" >&2
  fail "apt-get update failed (see above)."
fi
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  fail "apt-get install ${packages[*]} failed (see above)."
fi
for p in "${packages[@]}"; do
  installed "$p" || fail "$p still not installed after apt-get install."
done
for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool; do
  command -v "$bin" >/dev/null 2>&1 || fail "$bin not on PATH after installing ${packages[*]}."
done
echo "radosgw install: installed ${missing[*]} ($(dpkg-query -W -f='${Version}' radosgw))."
