#!/bin/sh
# capture.sh asks each server vdr can answer as for what gentable.py and
# genversions.py need, writing OUT/<personality>/:
#   cmdinfo.json  COMMAND INFO       cmddocs.json  COMMAND DOCS
#   config.json   CONFIG GET *       info.txt      INFO everything
#   help-<container>.json  <CONTAINER> HELP
# (CONFIG GET and INFO are asked of a default replica of a default primary,
# which is what vdr is.)
#
# Usage (from commands/):
#   REDIS_BUILDS=<dir of redis-builds> sh gen/capture.sh OUT
# where REDIS_BUILDS holds redis-7.2.6/ redis-7.4.1/ valkey-7.2.7/
# valkey-8.0.1/ (each with redis-server); 7.0 is the redis-server on PATH.
# See gen/regen.sh for the whole regeneration.
set -eu
out=${1:?usage: capture.sh OUT}
builds=${REDIS_BUILDS:?set REDIS_BUILDS to the folder of redis-builds}
cli=$(command -v redis-cli)
port=${CAPTURE_PORT:-23790}

capture() { # name server-binary
	name=$1 bin=$2
	dir=$out/$name
	mkdir -p "$dir/data"
	p1=$port r1=$((port + 1))
	"$bin" --port $p1 --bind 127.0.0.1 --save '' --appendonly no --dir "$dir/data" --daemonize no --logfile "$dir/data/p.log" &
	pp=$!
	"$bin" --port $r1 --bind 127.0.0.1 --save '' --appendonly no --dir "$dir/data" --daemonize no --logfile "$dir/data/r.log" --replicaof 127.0.0.1 $p1 &
	rp=$!
	for i in $(seq 50); do
		"$cli" -p $r1 ping >/dev/null 2>&1 && "$cli" -p $p1 ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	# The first sync waits repl-diskless-sync-delay (5 s); INFO must see
	# the link up (7.4 shows master_link_down_since_seconds while down).
	for i in $(seq 300); do
		"$cli" -p $r1 info replication | grep -q 'master_link_status:up' && break
		sleep 0.1
	done
	"$cli" -p $r1 info replication | grep -q 'master_link_status:up' || { echo "capture.sh: $name: replica link not up" >&2; exit 1; }
	"$cli" -p $r1 --json COMMAND INFO >"$dir/cmdinfo.json"
	"$cli" -p $r1 --json COMMAND DOCS >"$dir/cmddocs.json"
	"$cli" -p $r1 --json CONFIG GET '*' >"$dir/config.json"
	"$cli" -p $r1 INFO everything | tr -d '\r' >"$dir/info.txt"
	for c in acl client cluster command config function latency memory module object pubsub script slowlog xinfo; do
		"$cli" -p $r1 --json $c HELP >"$dir/help-$c.json" 2>/dev/null || true
	done
	kill $rp $pp
	wait $rp $pp 2>/dev/null || true
	rm -rf "$dir/data"
}

capture 7.0 "$(command -v redis-server)"
capture 7.2 "$builds/redis-7.2.6/redis-server"
capture 7.4 "$builds/redis-7.4.1/redis-server"
capture valkey-7.2 "$builds/valkey-7.2.7/redis-server"
capture valkey-8.0 "$builds/valkey-8.0.1/redis-server"
