#!/usr/bin/env bash
# make test-matrix: the replication and read differential suites against
# every Redis/Valkey build in ../shared/redis-builds (one folder per build,
# each with redis-server and redis-cli), the tests pointed at a build by
# VDR_REDIS_SERVER (see internal/redistest).
#
# Without the builds folder it skips, except under CI (CI set), where it
# fails. Every suite runs for every build even after a failure; a table
# version × suite → pass/FAIL is printed at the end, and the exit status is
# non-zero if any suite failed.
#
#   MATRIX_BUILDS  the folder of builds (default ../shared/redis-builds,
#                  relative to the repository root)
#   MATRIX_ONLY    space-separated row names to run (build folders, or
#                  default-<version> for the redis-server on PATH)
#   MATRIX_DEFAULT 0 to leave out the row of the redis-server on PATH
#   MATRIX_SUITES  space-separated suite names to run (default all)
#   MATRIX_LOGS    where each suite's `go test -v` output goes
#                  (default bin/test-matrix)
#   SEED           the seed of the randomised differentials (default 1, so
#                  that every build sees the same operations)
#   VDR_SEEDS      seeds per projection differential (default 4)
#   VDR_MAXFAILS   mismatches a server differential loop reports before
#                  it stops (default 1000: all of them, for the catalogue)
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
builds=${MATRIX_BUILDS:-../shared/redis-builds}
logs=${MATRIX_LOGS:-bin/test-matrix}
export SEED=${SEED:-1}
export VDR_SEEDS=${VDR_SEEDS:-4}
export VDR_MAXFAILS=${VDR_MAXFAILS:-1000}

if [ ! -d "$builds" ]; then
	if [ -n "${CI:-}" ]; then
		echo "test-matrix: no builds folder $builds, and CI must not skip" >&2
		exit 1
	fi
	echo "test-matrix: skipped: no builds folder $builds"
	exit 0
fi

# Suites: name, package, -run pattern. Chosen from the test files:
#   proj-diff   projection differentials against a real replica of the same
#               primary (TestDifferential, …Bits, …SortGeo, …Streams,
#               …Functions, and TestEncodingSizeHints)
#   srv-diff    the server's read differentials (RESP2/RESP3 replies of vdr
#               and of a real replica; direct and via a vdr node)
#   capture     the recorded 7.0.15 replication stream replayed into a real
#               replica of this build and into a projection
#   stream      stream RDB loading/DUMP/RESTORE, and streams through a snapshot
#   hash-ttl    hash field TTLs: the projection and commands models, and
#               a real-server differential (skips before Redis 7.4)
#   xread-track XREAD BLOCK and client-side caching (CLIENT TRACKING)
#   replica     the replication client against real primaries (full sync,
#               auth, key filter, faults through a proxy, Sentinel, TLS)
suites=(
	"proj-diff|./projection|^(TestDifferential|TestEncodingSizeHints)"
	"srv-diff|./server|^TestDifferential"
	"capture|./projection|^TestCaptureStream$"
	"stream|./projection ./server|^(TestStream|TestSnapshotKeepsStreams$)"
	"hash-ttl|./projection ./commands ./server|^(TestHashTTL|TestHashFieldTTL)"
	"xread-track|./server|^(TestXReadBlock|TestClientTracking)"
	"replica|./replica|^(TestReal|TestFault|TestSentinel)"
)

want_suite() {
	[ -z "${MATRIX_SUITES:-}" ] && return 0
	case " $MATRIX_SUITES " in *" $1 "*) return 0 ;; esac
	return 1
}

names=()
for s in "${suites[@]}"; do
	n=${s%%|*}
	want_suite "$n" && names+=("$n")
done

mkdir -p "$logs"
declare -A result
versions=()
failed=0
start_all=$(date +%s)
# The rows: Debian's redis-server from PATH first (the baseline `make test`
# runs against, as "default-<version>"; MATRIX_DEFAULT=0 leaves it out),
# then every build folder.
rows=()
nbuilds=0
if [ "${MATRIX_DEFAULT:-1}" != 0 ] && command -v redis-server >/dev/null; then
	v=$(redis-server --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')
	rows+=("default-$v|$(command -v redis-server)")
fi
for dir in "$builds"/*/; do
	dir=${dir%/}
	b=$(basename "$dir")
	[ -x "$dir/redis-server" ] || continue
	rows+=("$b|$(cd "$dir" && pwd)/redis-server")
	nbuilds=$((nbuilds + 1))
done
if [ "$nbuilds" -eq 0 ]; then
	if [ -n "${CI:-}" ]; then
		echo "test-matrix: no build with a redis-server in $builds, and CI must not skip" >&2
		exit 1
	fi
	echo "test-matrix: skipped: no build with a redis-server in $builds"
	exit 0
fi

for row in "${rows[@]}"; do
	b=${row%%|*}
	server=${row#*|}
	if [ -n "${MATRIX_ONLY:-}" ]; then
		case " $MATRIX_ONLY " in *" $b "*) ;; *) continue ;; esac
	fi
	versions+=("$b")
	echo "== $b: $("$server" --version | sed 's/ sha=.*//')"
	for s in "${suites[@]}"; do
		IFS='|' read -r n pkgs run <<<"$s"
		want_suite "$n" || continue
		log="$logs/$b.$n.log"
		t0=$(date +%s)
		cli=$(dirname "$server")/redis-cli
		[ -x "$cli" ] || cli=$(command -v redis-cli || true)
		# shellcheck disable=SC2086 # pkgs is a list
		VDR_REDIS_SERVER=$server VDR_REDIS_CLI=$cli \
			$GO test -count=1 -timeout 5m -v -run "$run" $pkgs >"$log" 2>&1
		rc=$?
		secs=$(($(date +%s) - t0))
		if [ $rc -eq 0 ]; then
			if grep -q '^--- PASS' "$log"; then
				r=pass
			elif grep -q '^--- SKIP' "$log"; then
				r=skip
			else
				r=none # no test matched: a stale pattern
				failed=1
			fi
		else
			r=FAIL
			failed=1
		fi
		result[$b.$n]=$r
		printf '   %-12s %-5s %4ds  %s\n' "$n" "$r" "$secs" "$log"
	done
done

if [ ${#versions[@]} -eq 0 ]; then
	echo "test-matrix: MATRIX_ONLY=$MATRIX_ONLY matches no row" >&2
	exit 1
fi

echo
echo "test-matrix: $(($(date +%s) - start_all))s, SEED=$SEED, logs in $logs"
printf '| %-14s |' version
for n in "${names[@]}"; do printf ' %-11s |' "$n"; done
echo
printf '|%s|' "----------------"
for n in "${names[@]}"; do printf '%s|' "-------------"; done
echo
for b in "${versions[@]}"; do
	printf '| %-14s |' "$b"
	for n in "${names[@]}"; do printf ' %-11s |' "${result[$b.$n]}"; done
	echo
done
exit $failed
