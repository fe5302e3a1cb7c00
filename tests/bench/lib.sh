# tests/bench/lib.sh - helpers for the benchmarks: a data cache under
# build/bench (made once, reused), and best-of-N wall-clock timing.
set -eu
export LC_ALL=C
PATH=$MLDE_BIN:$PATH
BENCH_DATA=${BENCH_DATA:-build/bench}
BENCH_RUNS=${BENCH_RUNS:-3}
mkdir -p "$BENCH_DATA"

now() { date +%s.%N; }

# best_of CMD...: run CMD (a shell string) BENCH_RUNS times; print the
# fastest wall-clock time in seconds.
best_of() {
	best=
	i=0
	while [ "$i" -lt "$BENCH_RUNS" ]; do
		t0=$(now)
		sh -c "$1"
		t1=$(now)
		best=$(echo "$t0 $t1 ${best:-}" | awk '{ t = $2 - $1; if ($3 != "" && $3 < t) t = $3; printf "%.3f", t }')
		i=$((i + 1))
	done
	echo "$best"
}
