#!/bin/sh
# Two ranks against one process, and an old binary against a new one under
# 2 ranks (issue 17): ROUNDS alternated rounds of
#   NEW dedup -q -j 1              (one process)
#   mpirun -n 2 OLD dedup -v -j 1
#   mpirun -n 2 NEW dedup -v -j 1
# on CORPUS, printing per run the wall time (mpirun's), stats.json's
# stage_seconds, each rank's peak RSS (from its -v line), the load average,
# and the md5 of kept/removed/clusters (all runs must agree).
#
#   bench/mpi_ab.sh OLD NEW CORPUS [ROUNDS]    (ROUNDS: 3)
#
# The machine is shared and noisy: quote medians and same-round ratios.
set -eu
old=$1 new=$2 corpus=$3 rounds=${4:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_base_warn_component_unused=0
out=$(mktemp -d "${TMPDIR:-/tmp}/winnow-mpi-ab.XXXXXX")
trap 'rm -rf "$out"' EXIT
echo "# $(uname -srm), $(nproc) cores; $corpus ($(wc -c <"$corpus") bytes)"
r=1
while [ "$r" -le "$rounds" ]; do
    for kind in one old new; do
        rm -rf "$out/o"
        s=$(date +%s.%N)
        case $kind in
        one) "$new" dedup -q -j 1 -o "$out/o" "$corpus" 2>"$out/err" ;;
        old) mpirun -n 2 "$old" dedup -v -j 1 -o "$out/o" "$corpus" \
            >/dev/null 2>"$out/err" ;;
        new) mpirun -n 2 "$new" dedup -v -j 1 -o "$out/o" "$corpus" \
            >/dev/null 2>"$out/err" ;;
        esac
        e=$(date +%s.%N)
        rss=$(sed -n 's/.*MPI rank \([0-9]*\) of .*peak_rss=\([0-9]*\).*/r\1=\2/p' \
            "$out/err" | sort | tr '\n' ' ')
        sums=$(cat "$out/o/kept.jsonl" "$out/o/removed.jsonl" \
            "$out/o/clusters.jsonl" | md5sum | cut -c1-12)
        python3 - "$out/o/stats.json" "$r" "$kind" "$s" "$e" "$rss" "$sums" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))["stage_seconds"]
load = open("/proc/loadavg").read().split()[0]
print(sys.argv[2], sys.argv[3], "wall %.2f" % (float(sys.argv[5]) - float(sys.argv[4])),
      " ".join("%s=%.2f" % kv for kv in st.items()), sys.argv[6],
      "outputs", sys.argv[7], "load", load)
PY
    done
    r=$((r + 1))
done
