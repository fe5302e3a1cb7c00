#!/bin/sh
# mk/report.sh N - the report of iterations 0..N of $RUN: report.tsv (one
# row per iteration, split and type), report.png (gnuplot), and a readable
# table with the time of each step on stdout.  Called by `make iterN`.
set -eu
n=$1
: "${RUN:?}" "${MLDE_BIN:?}"
export LC_ALL=C
tsv=$RUN/report.tsv

# generated ITER: "type<TAB>count" of the items iteration ITER generated
generated() {
	f=$RUN/iter$1/gen.jsonl.zst
	[ -f "$f" ] || return 0
	zstdcat "$f" | jq -r .type | sort | uniq -c | awk '{ printf "%s\t%s\n", $2, $1 }'
}

{
	printf 'iter\tsplit\ttype\tn\tacc\tgenerated\n'
	i=0
	while [ "$i" -le "$n" ]; do
		generated "$i" > "$tsv.gen"
		for split in val test; do
			"$MLDE_BIN/mlde-weak" -q --tsv "$RUN/iter$i/$split.eval.jsonl.zst" |
				awk -v i="$i" -v s="$split" -v genfile="$tsv.gen" -F '\t' '
				BEGIN { while ((getline line < genfile) > 0) { split(line, g, "\t"); gen[g[1]] = g[2]; total += g[2] } }
				NR > 1 { rows[NR] = sprintf("%d\t%s\t%s\t%d\t%s\t%d", i, s, $1, $2, $4, gen[$1] + 0); n += $2; c += $3 }
				END {
					printf "%d\t%s\tall\t%d\t%.4f\t%d\n", i, s, n, n ? c / n : 0, total + 0
					for (r = 2; r <= NR; r++) print rows[r]
				}'
		done
		i=$((i + 1))
	done
} > "$tsv.tmp"
rm -f "$tsv.gen"
mv "$tsv.tmp" "$tsv"

# the chart: test accuracy per type over the iterations, drawn from a
# matrix of it (iteration, then one column per type; "all" first)
if command -v gnuplot > /dev/null; then
	awk -F '\t' 'NR > 1 && $2 == "test" {
		if (!($3 in col)) { col[$3] = ++k; name[k] = $3 }
		acc[$1, col[$3]] = 100 * $5; if ($1 > last) last = $1 }
		END {
			printf "iter"; for (c = 1; c <= k; c++) printf "\t%s", name[c]; printf "\n"
			for (i = 0; i <= last; i++) {
				printf "%d", i; for (c = 1; c <= k; c++) printf "\t%s", acc[i, c]; printf "\n" }
		}' "$tsv" > "$RUN/report.matrix"
	gnuplot -e "data='$RUN/report.matrix'; out='$RUN/report.png.tmp'; last=$n" mk/report.gp &&
		mv "$RUN/report.png.tmp" "$RUN/report.png"
	rm -f "$RUN/report.matrix"
else
	echo "mk/report.sh: gnuplot not found (make deps installs it): no report.png" >&2
fi

# for people: test and val accuracy per type, one column per iteration
echo
echo "Accuracy by iteration ($RUN/report.tsv; chart: $RUN/report.png)"
awk -F '\t' -v last="$n" '
	NR > 1 { acc[$3, $2, $1] = $5; gen[$3, $1] = $6; if (!($3 in seen)) { seen[$3] = 1; order[++k] = $3 } }
	END {
		printf "%-22s %-5s", "type", "split"
		for (i = 0; i <= last; i++) printf "  iter%-2d", i
		printf "  generated\n"
		for (j = 1; j <= k; j++) for (s = 1; s <= 2; s++) {
			split_ = s == 1 ? "test" : "val"
			printf "%-22s %-5s", order[j], split_
			for (i = 0; i <= last; i++) printf "  %6.1f", 100 * acc[order[j], split_, i]
			g = ""; for (i = 1; i <= last; i++) g = g (i > 1 ? "+" : "") gen[order[j], i]
			printf "  %s\n", s == 1 ? g : ""
		}
	}' "$tsv"
if [ -f "$RUN/times.tsv" ]; then
	echo
	echo "Time of each step ($RUN/times.tsv; the last time of a step that ran more than once):"
	awk -F '\t' '{ t[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
		END { for (j = 1; j <= k; j++) { printf "  %-24s %8.2f s\n", order[j], t[order[j]]; sum += t[order[j]] }
		      printf "  %-24s %8.2f s\n", "total", sum }' "$RUN/times.tsv"
fi
