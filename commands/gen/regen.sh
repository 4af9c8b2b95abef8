#!/bin/sh
# regen.sh regenerates commands/*_gen.go from the real servers of every
# personality (see internal/compat): it runs each one (gen/capture.sh),
# then the generators. Regenerate after adding a personality or a server
# release; never edit the generated files.
#
# Usage (from commands/):
#   REDIS_BUILDS=<folder with redis-7.2.6/ redis-7.4.1/ valkey-7.2.7/ valkey-8.0.1/> sh gen/regen.sh
# Redis 7.0 is the redis-server on PATH (Debian's 7.0.15).
set -eu
cap=$(mktemp -d)
trap 'rm -rf "$cap"' EXIT
sh gen/capture.sh "$cap"
python3 gen/gentable.py "$cap" >table_gen.go
python3 gen/genversions.py "$cap" >versions_gen.go
gofmt -w table_gen.go versions_gen.go
