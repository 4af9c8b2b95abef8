#!/usr/bin/env bash
# Installs what make test needs from Debian's packages when any of it is
# missing: Redis (server, sentinel, tools), and for the cluster-mode client
# tests redis-py (python3-redis, which has RedisCluster) and node with npm,
# then ioredis into bin/node (npm, the version server/testdata/node pins).
# With the argument "bench", gnuplot too (for the plots of make
# bench-compare). Needs root for apt; never prompts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
need=()
pkgs=(redis-server redis-sentinel redis-tools)
for b in redis-server redis-sentinel redis-cli redis-benchmark; do
  command -v "$b" >/dev/null 2>&1 || need+=("$b")
done
# redis-py for the system python3 (the tests try python3 on PATH, then it).
has_redis_py() {
  for py in python3 /usr/bin/python3; do
    command -v "$py" >/dev/null 2>&1 && "$py" -c 'import redis.cluster' >/dev/null 2>&1 && return 0
  done
  return 1
}
if ! has_redis_py; then
  need+=(redis-py); pkgs+=(python3-redis)
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  need+=(node npm); pkgs+=(nodejs npm)
fi
if [ "${1:-}" = bench ] && ! command -v gnuplot >/dev/null 2>&1; then
  need+=(gnuplot); pkgs+=(gnuplot-nox)
fi
# ioredis for the node client tests, once, into bin/node (git-ignored).
install_ioredis() {
  local dir="$root/bin/node"
  [ -d "$dir/node_modules/ioredis" ] && return 0
  echo "install-deps: installing ioredis into bin/node"
  mkdir -p "$dir"
  cp "$root/server/testdata/node/package.json" "$dir/"
  # Not fatal: offline, the node tests install it themselves or say why not.
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "install-deps: npm install ioredis failed; the ioredis tests will try again" >&2
}
if [ ${#need[@]} -eq 0 ]; then
  install_ioredis
  exit 0
fi
echo "install-deps: missing ${need[*]}; installing ${pkgs[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: not root and no sudo; install ${pkgs[*]} yourself" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
# The package may start system services on default ports; tests never use them.
for svc in redis-server redis-sentinel; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
install_ioredis
