#!/usr/bin/env bash
# Debian's unmodified db_bench with and without atrest (the preloaded plugin and
# --fs_uri=atrest:DIR), interleaved: every repetition runs both sides, in alternating order
# (plain first on odd repetitions, atrest first on even ones), so a drift in the host's speed hits
# both alike. Prints ops/sec of every run, then per workload the median ops/sec of each side and
# the median (and range) of the per-repetition ratios atrest / plain (1.00 = no cost), and the
# same for the CPU time (user + system, all threads) each whole db_bench run used — the steadier
# figure on a shared machine, where wall time also measures the neighbours.
#
#   bench/db_bench_interleaved.sh PLUGIN.so [REPETITIONS=5] [KEYS=500000] [WORK_DIR]
#
# PLUGIN.so is build/<dir>/tools/rocksdb-plugin/libatrest_rocksdb_plugin.so; db_bench comes from
# Debian's rocksdb-tools. WORK_DIR (default: a new directory under /var/tmp, on disk) gets a
# fresh master key file and one database per side, removed before every run.
set -euo pipefail

plugin=$(realpath "${1:?usage: $0 PLUGIN.so [REPETITIONS] [KEYS] [WORK_DIR]}")
reps=${2:-5}
keys=${3:-500000}
work=${4:-$(mktemp -d /var/tmp/atrest-db-bench.XXXXXX)}
method=${ATREST_METHOD:-aes128-ctr}
benchmarks=fillseq,readrandom,fillrandom
db_bench=$(command -v db_bench || command -v rocksdb_db_bench || true)
[ -n "$db_bench" ] || { echo "db_bench not found (Debian package rocksdb-tools)" >&2; exit 1; }

mkdir -p "$work"
key="$work/master.key"
(umask 077 && { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; echo; } > "$key")
results="$work/results.txt"
: > "$results"

# One db_bench run: prints "<rep> <side> <workload> <ops/sec>" per workload and
# "<rep> <side> cpu_seconds <user+system>" for the whole run.
run() {
  local side=$1 rep=$2 db="$work/db-$1" out TIMEFORMAT='%U %S'
  rm -rf "$db"
  local args=(--db="$db" --benchmarks="$benchmarks" --num="$keys" --threads=1 --seed=42 --statistics=false)
  if [ "$side" = atrest ]; then
    { time { out=$(LD_PRELOAD="$plugin" ATREST_MASTER_KEY_FILE="$key" ATREST_METHOD="$method" ATREST_CREATE_IF_MISSING=1 \
                   "$db_bench" "${args[@]}" --fs_uri="atrest:$db" 2>&1); }; } 2> "$work/cpu"
  else
    { time { out=$("$db_bench" "${args[@]}" 2>&1); }; } 2> "$work/cpu"
  fi
  # Progress lines are joined by carriage returns; keep the result lines only.
  tr '\r' '\n' <<<"$out" | awk -v rep="$rep" -v side="$side" \
    '$2 == ":" && $4 == "micros/op" { print rep, side, $1, $5 }' | tee -a "$results"
  awk -v rep="$rep" -v side="$side" '{ print rep, side, "cpu_seconds", $1 + $2 }' "$work/cpu" | tee -a "$results"
}

echo "db_bench $("$db_bench" --version 2>&1 | head -1 || true), $keys keys, $reps repetitions, atrest $method"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$reps"); do
  if [ $((rep % 2)) -eq 1 ]; then order="plain atrest"; else order="atrest plain"; fi
  for side in $order; do run "$side" "$rep"; done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-12s %14s %14s %16s %14s\n' workload "plain" "atrest" "atrest / plain" "range"
for w in ${benchmarks//,/ } cpu_seconds; do
  plain=$(awk -v w="$w" '$2 == "plain" && $3 == w { print $4 }' "$results" | median)
  enc=$(awk -v w="$w" '$2 == "atrest" && $3 == w { print $4 }' "$results" | median)
  ratios=$(awk -v w="$w" '$3 == w { v[$1, $2] = $4; reps[$1] = 1 }
                          END { for (r in reps) if (v[r, "plain"] > 0) printf "%.4f\n", v[r, "atrest"] / v[r, "plain"] }' \
           "$results" | sort -g)
  printf '%-12s %14s %14s %16.2f %6.2f-%.2f\n' "$w" "$plain" "$enc" "$(median <<<"$ratios")" \
         "$(head -1 <<<"$ratios")" "$(tail -1 <<<"$ratios")"
done
echo "(workloads: ops/sec, higher is better; cpu_seconds: the whole run, lower is better)"
rm -rf "$work/db-plain" "$work/db-atrest"
