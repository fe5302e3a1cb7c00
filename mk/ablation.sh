#!/bin/sh
# mk/ablation.sh DIR SEEDS STRATEGIES - the side-by-side table of an
# ablation: mean test accuracy (%) over the seeds, per iteration and type,
# one column group per strategy, and the difference of the first two.
set -eu
dir=$1 seeds=$2 strategies=$3
export LC_ALL=C
for strategy in $strategies; do
	for seed in $seeds; do
		awk -F '\t' -v st="$strategy" 'NR > 1 && $2 == "test" { print st "\t" $1 "\t" $3 "\t" $5 }' \
			"$dir/$strategy-seed$seed/report.tsv"
	done
done | awk -F '\t' -v strategies="$strategies" -v nseeds="$(echo $seeds | wc -w)" '
	{ sum[$1, $2, $3] += $4; if ($2 > last) last = $2
	  if (!($3 in seen)) { seen[$3] = 1; order[++k] = $3 } }
	END {
		ns = split(strategies, st, " ")
		printf "test accuracy (%%), mean over %d seed%s\n", nseeds, (nseeds > 1 ? "s" : "")
		printf "%-22s %5s", "type", "iter"
		for (s = 1; s <= ns; s++) printf " %8s", st[s]
		if (ns >= 2) printf " %8s", st[1] "-" st[2]
		printf "\n"
		for (j = 1; j <= k; j++) for (i = 0; i <= last; i++) {
			printf "%-22s %5d", order[j], i
			for (s = 1; s <= ns; s++) printf " %8.1f", 100 * sum[st[s], i, order[j]] / nseeds
			if (ns >= 2) printf " %+8.1f", 100 * (sum[st[1], i, order[j]] - sum[st[2], i, order[j]]) / nseeds
			printf "\n"
		}
	}'
