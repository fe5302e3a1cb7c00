#!/bin/sh
# tests/fuzz/report.sh DIR NAME... - the table `make fuzz` ends with, one
# row a target, from libFuzzer's log DIR/NAME.log (its final stats and its
# last cov: line) and DIR/corpus/NAME: executions per second, edges
# covered (cov:), features (ft:), inputs in the corpus, and the crashes of
# this run (inputs libFuzzer wrote out: a crash, a leak, a timeout).
set -eu
dir=$1
shift
printf '%-12s %8s %6s %6s %7s %7s\n' target exec/s cov ft corpus crashes
for t in "$@"; do
	log=$dir/$t.log
	[ -f "$log" ] || { printf '%-12s (not run)\n' "$t"; continue; }
	crashes=$(grep -c '^artifact_prefix=.*Test unit written to' "$log" || true)
	corpus=$(find "$dir/corpus/$t" -type f 2> /dev/null | wc -l)
	awk -v t="$t" -v corpus="$corpus" -v crashes="$crashes" '
		/^stat::average_exec_per_sec:/ { eps = $2 }
		/ cov: [0-9]+ ft: [0-9]+/ {
			for (i = 1; i < NF; i++) {
				if ($i == "cov:") cov = $(i + 1)
				if ($i == "ft:") ft = $(i + 1)
			}
		}
		END { printf "%-12s %8s %6s %6s %7d %7d\n", t, eps, cov, ft, corpus, crashes }' "$log"
done
