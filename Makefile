# vdr — read replica for Redis. `make demo` and `make test` need nothing else.
GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 30s
BENCHTIME ?= 1x

.PHONY: all build test test-matrix vet bench fuzz demo bench-compare deps fixtures clean

all: build

build:
	$(GO) build -o bin/vdr ./cmd/vdr

deps:
	bash scripts/install-deps.sh

vet:
	$(GO) vet $(PKGS)

# The default test run: vet, then every package with the race detector.
test: deps vet
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	# Without -race: the lock-free prefetch stage (compiled out under -race,
	# projection/prefetch_deep.go) and the allocation checks (the race
	# detector allocates).
	$(GO) test -count=1 -run 'TestPrefetch|TestTable|TestSwapDB|NoAllocs' ./projection ./server

# The replication and read differential suites against the redis-server on
# PATH and every Redis/Valkey build in ../shared/redis-builds
# (VDR_REDIS_SERVER points the tests at each); skips when that folder is
# absent, except under CI. Prints a table version × suite → pass/FAIL and
# fails if any suite failed; logs in bin/test-matrix. Without -race (make
# test has it): 6–8 minutes on 2 shared cores.
test-matrix:
	GO=$(GO) bash scripts/test-matrix.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Each fuzz target runs for FUZZTIME (go test allows one -fuzz target per run).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

demo: deps build
	bash scripts/demo.sh

# Full comparison with a real Redis replica; writes bench/RESULTS.md and
# bench/plots/. BENCH_N=20000 for a quick run.
bench-compare: build
	bash scripts/install-deps.sh bench
	$(GO) run ./bench/cmd/compare -vdr bin/vdr $(BENCH_ARGS)

# Regenerates testdata/ (RDB files and a replication capture) from the real
# servers found here; by hand only, never part of make test.
fixtures:
	bash scripts/gen-fixtures.sh

clean:
	rm -rf bin
