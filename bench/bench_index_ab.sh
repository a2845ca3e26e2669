#!/bin/sh
# The HTTP rows of bench_index.sh for two builds of winnow serve, row by
# row in turn, so that both see the same minutes of a shared machine
# (docs/BENCHMARKS.md, run D): NEW's server and client, BASE's server with
# NEW's client, BASE's server and client. Run from a checkout holding the
# 1 M index of `bench_index.sh BUILD 1000000 20000 make`.
#
#   bench/bench_index_ab.sh NEW_BUILD BASE_BUILD [ROWS]
#   ROWS: bench_index.sh's HTTP rows, repeated ones run again
#   (default "64 1 4 16 64 w64 n64 q16 64 64 64")
# CFGS=... runs a subset of: new base_newclient base.
set -u
new=$1
base=$2
rows=${3:-64 1 4 16 64 w64 n64 q16 64 64 64}
run() { # cfg row
    echo "=== $1 $2 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
    case $1 in
    new) LIB_ROWS=0 HTTP_RUNS=$2 sh bench/bench_index.sh "$new" 1000000 20000 use ;;
    base_newclient)
        CLIENT=$new/bench/bench_serve LIB_ROWS=0 HTTP_RUNS=$2 \
            sh bench/bench_index.sh "$base" 1000000 20000 use ;;
    base) LIB_ROWS=0 HTTP_RUNS=$2 sh bench/bench_index.sh "$base" 1000000 20000 use ;;
    esac 2>&1 | grep -v '^- Linux\|^- 1000000 records\|^- load average'
}
for row in $rows; do
    for cfg in ${CFGS:-new base_newclient base}; do
        run "$cfg" "$row"
    done
done
echo "=== end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
