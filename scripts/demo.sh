#!/usr/bin/env bash
# make demo: a throwaway Redis primary with sample data of every type, and vdr
# replicating it. Shows a few reads through redis-cli and the lag from
# /metrics, then keeps running until Ctrl-C (or for DEMO_SECONDS seconds,
# which is how CI runs it) and removes everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
VDR=${VDR:-bin/vdr}
work=$(mktemp -d -t vdr-demo-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port below the kernel's ephemeral range when there is room: one inside
# it can be taken by any outgoing connection before the server binds it.
eph_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
if [ "${eph_low:-0}" -gt 11000 ] 2>/dev/null; then port_span=$((eph_low - 10000)); else port_span=20000; fi
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$(( (RANDOM * 32768 + RANDOM) % port_span + 10000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "demo: no free port found" >&2; exit 1
}
wait_for() { # seconds, description, pid that must stay alive (or ""), command...
  local secs=$1 what=$2 pid=$3; shift 3
  for _ in $(seq 1 $((secs * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "demo: gave up waiting for $what: the process exited" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "demo: timed out waiting for $what" >&2
  return 1
}
fail() { # log file to show
  [ -f "$1" ] && tail -20 "$1" >&2
  exit 1
}

pport=$(free_port)
echo "== starting a throwaway Redis primary on 127.0.0.1:$pport"
redis-server --port "$pport" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --logfile "$work/primary.log" --daemonize no &
pids+=($!)
wait_for 10 "the primary" "$!" redis-cli -p "$pport" ping || fail "$work/primary.log"

echo "== loading sample data of every type"
cli() { redis-cli -p "$pport" "$@" >/dev/null; }
cli set greeting "hello from the primary"
cli set counter 41
cli incr counter
cli set session:1 alive PX 3600000
cli rpush queue job1 job2 job3
cli hset user:1 name Ada lang Go city London
cli sadd tags redis replica go
cli zadd leaderboard 100 alice 250 bob 175 carol
cli xadd events '*' kind signup user ada
cli pfadd visitors a b c d
for i in $(seq 1 200); do echo "SET key:$i value-$i"; done | redis-cli -p "$pport" >/dev/null

# Another process may still take a port between the check and vdr's bind:
# then vdr exits at once saying so, and it is started again on new ports.
for attempt in 1 2 3; do
  vport=$(free_port); hport=$(free_port)
  echo "== starting vdr on 127.0.0.1:$vport (HTTP on 127.0.0.1:$hport)"
  "$VDR" --primary "127.0.0.1:$pport" --port "$vport" --http "127.0.0.1:$hport" >"$work/vdr.log" 2>&1 &
  vpid=$!
  if wait_for 30 "vdr to be ready (/readyz)" "$vpid" curl -sf "http://127.0.0.1:$hport/readyz"; then
    pids+=("$vpid")
    break
  fi
  kill "$vpid" 2>/dev/null || true; wait "$vpid" 2>/dev/null || true
  if [ "$attempt" = 3 ] || ! grep -q "address already in use" "$work/vdr.log"; then fail "$work/vdr.log"; fi
  echo "demo: a port was taken meanwhile; trying others" >&2
done

echo "== reads through redis-cli -p $vport"
v() { echo "> $*"; redis-cli -p "$vport" "$@"; }
v get greeting
v get counter
v lrange queue 0 -1
v hgetall user:1
v smembers tags
v zrange leaderboard 0 -1 withscores
v dbsize
v info replication | grep -E '^(role|master_link_status|slave_repl_offset)'
echo "> SET on the replica is refused, as on any Redis replica:"
redis-cli -p "$vport" set greeting changed || true

echo "== a write on the primary, read back from vdr"
redis-cli -p "$pport" set greeting "updated on the primary" >/dev/null
wait_for 5 "the write to arrive" "" bash -c "[ \"\$(redis-cli -p $vport get greeting)\" = 'updated on the primary' ]" || fail "$work/vdr.log"
v get greeting

echo "== lag from /metrics"
curl -sf "http://127.0.0.1:$hport/metrics" | grep -E '^vdr_(replication_lag_bytes|applied_offset|primary_offset|link_up)' || true

if [ -n "${DEMO_SECONDS:-}" ]; then
  echo "== demo ok; stopping in ${DEMO_SECONDS}s"
  sleep "$DEMO_SECONDS"
else
  echo "== vdr is serving on 127.0.0.1:$vport (try: redis-cli -p $vport); Ctrl-C to stop and clean up"
  wait "$vpid"
fi
