#!/usr/bin/env bash
# Regenerates the test fixtures kept in the repository (testdata/rdb and
# testdata/replstream) from real servers. Run it by hand, from anywhere in
# the repository, after changing the data set or the workload in
# internal/fixtures/gen, then review and commit testdata/:
#
#   bash scripts/gen-fixtures.sh
#
# Servers used:
#   - redis-server on PATH (Debian's 7.0.15): redis-7.0.15.rdb (RDB 10)
#     and the replication capture (it must be a 7.0 server);
#   - every <builds>/<name>/redis-server, where <builds> is $REDIS_BUILDS
#     or ../shared/redis-builds beside the repository: redis-7.2.6 (RDB 11),
#     redis-7.4.1 (RDB 12, hash field TTLs), valkey-7.2.7, valkey-8.0.1.
#     A missing build is reported and skipped; its old fixture stays.
#
# Each server runs on a free 127.0.0.1 port in its own temporary
# directory and is killed when the generator exits (also on Ctrl-C).
# make test never runs this script: tests read the committed files.
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
builds=${REDIS_BUILDS:-$root/../shared/redis-builds}
args=()
if command -v redis-server >/dev/null 2>&1; then
  sys=$(command -v redis-server)
  ver=$("$sys" --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')
  args+=(-server "redis-$ver=$sys")
  case $ver in
    7.0.*) args+=(-capture-server "$sys") ;;
    *) echo "gen-fixtures: redis-server on PATH is $ver, not 7.0: no capture" >&2 ;;
  esac
else
  echo "gen-fixtures: no redis-server on PATH" >&2
fi
for name in redis-7.2.6 redis-7.4.1 valkey-7.2.7 valkey-8.0.1; do
  if [ -x "$builds/$name/redis-server" ]; then
    args+=(-server "$name=$builds/$name/redis-server")
  else
    echo "gen-fixtures: $builds/$name/redis-server not found; keeping testdata/rdb/$name.*" >&2
  fi
done
exec go run ./internal/fixtures/gen -out testdata "${args[@]}"
