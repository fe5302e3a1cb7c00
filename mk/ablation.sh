#!/bin/sh
# mk/ablation.sh DIR SEEDS STRATEGIES - the ablation's report: the
# side-by-side table (mean test accuracy (%) over the seeds, per iteration
# and type, one column per strategy, and the difference of the first two),
# then the first two strategies at the last iteration item by item on the
# same test items, pooled over the seeds (DIR/ablation-gain.tsv, by
# mk/gain.sh: the difference with its 95% interval and McNemar's test), and
# DIR/ablation.png: per type, both strategies with their 95% intervals.
set -eu
dir=$1 seeds=$2 strategies=$3
export LC_ALL=C
here=$(dirname "$0")
nseeds=$(echo $seeds | wc -w)
set -- $strategies
first=$1 second=${2:-}

# rows: strategy iter type n correct, summed over the seeds
for strategy in $strategies; do
	for seed in $seeds; do
		awk -F '\t' -v st="$strategy" 'NR > 1 && $2 == "test" { print st "\t" $1 "\t" $3 "\t" $4 "\t" $4 * $5 }' \
			"$dir/$strategy-seed$seed/report.tsv"
	done
done | awk -F '\t' '{ n[$1 "\t" $2 "\t" $3] += $4; c[$1 "\t" $2 "\t" $3] += $5 }
	END { for (k in n) printf "%s\t%d\t%d\n", k, n[k], c[k] + 0.5 }' | sort > "$dir/ablation.rows"

# the pairs: the first strategy against the second, seed by seed
last=$(awk -F '\t' '$2 > m { m = $2 } END { print m + 0 }' "$dir/ablation.rows")
if [ -n "$second" ]; then
	pairs=
	for seed in $seeds; do
		pairs="$pairs $dir/$second-seed$seed/iter$last/test.eval.jsonl.zst $dir/$first-seed$seed/iter$last/test.eval.jsonl.zst"
	done
	sh "$here/gain.sh" $pairs > "$dir/ablation-gain.tsv.tmp"
	mv "$dir/ablation-gain.tsv.tmp" "$dir/ablation-gain.tsv"
fi

# the chart: per type ("all" first), a block of iter, then acc lo hi (in %)
# of each of the first two strategies
if [ -n "$second" ] && command -v gnuplot > /dev/null; then
	awk -F '\t' -v first="$first" -v second="$second" -v last="$last" -v titles="$dir/ablation.titles" \
		-v gainfile="$dir/ablation-gain.tsv" '
		function wilson(c, n,    p, z2n, mid, half) {
			p = c / n; z2n = z * z / n
			mid = (p + z2n / 2) / (1 + z2n)
			half = z * sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
			wlo = c == 0 ? 0 : mid - half; whi = c == n ? 1 : mid + half
		}
		BEGIN { z = 1.959963984540054
			while ((getline line < gainfile) > 0) { split(line, g, "\t"); gain[g[1]] = line } }
		{ n[$1, $2, $3] = $4; c[$1, $2, $3] = $5
		  if (!($3 in seen)) { seen[$3] = 1; types[++k] = $3 } }
		END {
			# "all" first, then the types in name order (the rows are sorted)
			m = 0; order[++m] = "all"
			for (j = 1; j <= k; j++) if (types[j] != "all") order[++m] = types[j]
			for (j = 1; j <= m; j++) {
				t = order[j]
				for (i = 0; i <= last; i++) {
					printf "%d", i
					for (s = 1; s <= 2; s++) {
						st = s == 1 ? first : second
						wilson(c[st, i, t], n[st, i, t])
						printf "\t%.2f\t%.2f\t%.2f", 100 * c[st, i, t] / n[st, i, t], 100 * wlo, 100 * whi
					}
					printf "\n"
				}
				printf "\n\n"
				print t " (n=" n[first, last, t] ")" > titles
				split(gain[t], g, "\t")
				printf "%+.0f points [%+.0f, %+.0f]: %s\n", 100 * g[5], 100 * g[6],
					100 * g[7], (g[6] > 0 || g[7] < 0 ? "real" : "noise") > titles
			}
		}' "$dir/ablation.rows" > "$dir/ablation.blocks"
	gnuplot -e "data='$dir/ablation.blocks'; titles='$dir/ablation.titles'; out='$dir/ablation.png.tmp'; last=$last; first='$first'; second='$second'; nseeds=$nseeds" \
		"$here/ablation.gp" && mv "$dir/ablation.png.tmp" "$dir/ablation.png"
	rm -f "$dir/ablation.blocks" "$dir/ablation.titles"
fi

# for people; a closed pipe (| head) ends it quietly
tables() {
	awk -F '\t' -v strategies="$strategies" -v nseeds="$nseeds" '
		{ acc[$1, $2, $3] = $5 / $4; if ($2 > last) last = $2
		  if (!($3 in seen)) { seen[$3] = 1; types[++k] = $3 } }
		END {
			m = 0; order[++m] = "all"
			for (j = 1; j <= k; j++) if (types[j] != "all") order[++m] = types[j]
			ns = split(strategies, st, " ")
			printf "test accuracy (%%), mean over %d seed%s\n", nseeds, (nseeds > 1 ? "s" : "")
			printf "%-22s %5s", "type", "iter"
			for (s = 1; s <= ns; s++) printf " %8s", st[s]
			if (ns >= 2) printf " %8s", st[1] "-" st[2]
			printf "\n"
			for (j = 1; j <= m; j++) for (i = 0; i <= last; i++) {
				printf "%-22s %5d", order[j], i
				for (s = 1; s <= ns; s++) printf " %8.1f", 100 * acc[st[s], i, order[j]]
				if (ns >= 2) printf " %+8.1f", 100 * (acc[st[1], i, order[j]] - acc[st[2], i, order[j]])
				printf "\n"
			}
		}' "$dir/ablation.rows"
	if [ -n "$second" ]; then
		echo
		echo "Is the difference real? $first against $second at iteration $last, on the same test"
		echo "items, pooled over the seeds ($dir/ablation-gain.tsv): in points with its 95% interval;"
		echo "items right only under $first / only under $second; McNemar's mid-p; chart: $dir/ablation.png"
		awk -F '\t' -v a="$first" -v b="$second" '
			NR == 1 { printf "%-22s %5s %8s %8s %7s  %-14s %9s %8s\n", "type", "n", a, b, a "-" b, "95% interval", "+/-", "p"; next }
			{
				verdict = $6 > 0 ? a " better" : $7 < 0 ? b " better" : "noise"
				p = $11 < 0.001 ? "<0.001" : sprintf("%.3f", $11)
				printf "%-22s %5d %8.1f %8.1f %+7.1f  [%+5.1f, %+5.1f] %9s %8s  %s\n", $1, $2,
					100 * $4, 100 * $3, 100 * $5, 100 * $6, 100 * $7, $8 "/" $9, p, verdict
			}' "$dir/ablation-gain.tsv"
	fi
}
status=0
(tables) || status=$?
rm -f "$dir/ablation.rows"
[ "$status" -eq 141 ] && status=0
exit "$status"
