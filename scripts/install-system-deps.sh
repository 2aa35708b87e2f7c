#!/usr/bin/env bash
# Installs the system packages the tests need and pip cannot provide: Debian's chromium (the browser test drives it
# through Playwright, which must never download its own) and CJK fonts so Chinese renders in it; HAProxy, the load
# balancer in front of the simulated hosts of tests/scale/test_multihost.py and `make multihost` (never started here).
# Idempotent and quiet: does nothing when everything is installed; runs `apt-get update` first otherwise.
# Works as root, or through passwordless sudo; never prompts.
set -euo pipefail

PACKAGES=(chromium fonts-noto-cjk haproxy)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "install-system-deps: no apt-get (not Debian/Ubuntu); please install: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "install-system-deps: needs root (or passwordless sudo) to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-system-deps: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "$@" >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
}
apt update
apt install -y --no-install-recommends "${missing[@]}"
