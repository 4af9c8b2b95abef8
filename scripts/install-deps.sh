#!/usr/bin/env bash
# Installs Redis (server, sentinel, tools) from Debian's packages when any of
# them is missing; with the argument "bench", gnuplot too (for the plots of
# make bench-compare). Needs root; never prompts.
set -euo pipefail
need=()
pkgs=(redis-server redis-sentinel redis-tools)
for b in redis-server redis-sentinel redis-cli redis-benchmark; do
  command -v "$b" >/dev/null 2>&1 || need+=("$b")
done
if [ "${1:-}" = bench ] && ! command -v gnuplot >/dev/null 2>&1; then
  need+=(gnuplot); pkgs+=(gnuplot-nox)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: missing ${need[*]}; installing ${pkgs[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: not root and no sudo; install redis-server redis-sentinel redis-tools yourself" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
# The package may start system services on default ports; tests never use them.
for svc in redis-server redis-sentinel; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
