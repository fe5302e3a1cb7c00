#!/bin/sh
# mk/report.sh N - the report of iterations 0..N of $RUN: report.tsv (one
# row per iteration, split and type, with a 95% Wilson interval), gain.tsv
# (iteration 0 against N on the same test items, mk/gain.sh), report.png
# (gnuplot, mk/report.gp), and readable tables with the time of each step
# on stdout.  Called by `make iterN`.
set -eu
n=$1
: "${RUN:?}" "${MLDE_BIN:?}"
export LC_ALL=C
here=$(dirname "$0")
tsv=$RUN/report.tsv

# generated ITER: "type<TAB>count" of the items iteration ITER generated
generated() {
	f=$RUN/iter$1/gen.jsonl.zst
	[ -f "$f" ] || return 0
	zstdcat "$f" | jq -r .type | sort | uniq -c | awk '{ printf "%s\t%s\n", $2, $1 }'
}

# the rows: mlde-weak gives each type's interval; the overall one is the
# same 95% Wilson score interval, here
{
	printf 'iter\tsplit\ttype\tn\tacc\tgenerated\tlo\thi\n'
	i=0
	while [ "$i" -le "$n" ]; do
		generated "$i" > "$tsv.gen"
		for split in val test; do
			"$MLDE_BIN/mlde-weak" -q --tsv "$RUN/iter$i/$split.eval.jsonl.zst" |
				awk -v i="$i" -v s="$split" -v genfile="$tsv.gen" -F '\t' '
				BEGIN { while ((getline line < genfile) > 0) { split(line, g, "\t"); gen[g[1]] = g[2]; total += g[2] } }
				NR > 1 { rows[NR] = sprintf("%d\t%s\t%s\t%d\t%s\t%d\t%s\t%s", i, s, $1, $2, $4, gen[$1] + 0, $5, $6); n += $2; c += $3 }
				END {
					z = 1.959963984540054; lo = 0; hi = 1
					if (n) {
						p = c / n; z2n = z * z / n
						mid = (p + z2n / 2) / (1 + z2n)
						half = z * sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
						lo = c == 0 ? 0 : mid - half; hi = c == n ? 1 : mid + half
					}
					printf "%d\t%s\tall\t%d\t%.4f\t%d\t%.4f\t%.4f\n", i, s, n, n ? c / n : 0, total + 0, lo, hi
					for (r = 2; r <= NR; r++) print rows[r]
				}'
		done
		i=$((i + 1))
	done
} > "$tsv.tmp"
rm -f "$tsv.gen"
mv "$tsv.tmp" "$tsv"

# the gain: iteration 0 against N, item by item
if [ "$n" -gt 0 ]; then
	sh "$here/gain.sh" "$RUN/iter0/test.eval.jsonl.zst" "$RUN/iter$n/test.eval.jsonl.zst" > "$RUN/gain.tsv.tmp"
	mv "$RUN/gain.tsv.tmp" "$RUN/gain.tsv"
fi

# the chart: one block of test rows per type ("all" first), in percent,
# and a title for each panel (with its gain when there is one)
if command -v gnuplot > /dev/null; then
	gainfile=/dev/null
	[ "$n" -gt 0 ] && gainfile=$RUN/gain.tsv
	awk -F '\t' -v gainfile="$gainfile" -v titles="$RUN/report.titles" -v last="$n" '
		BEGIN { while ((getline line < gainfile) > 0) { split(line, g, "\t"); gain[g[1]] = line } }
		NR > 1 && $2 == "test" {
			if (!($3 in col)) { col[$3] = ++k; name[k] = $3; size[k] = $4 }
			row[col[$3], $1] = sprintf("%d\t%.2f\t%.2f\t%.2f", $1, 100 * $5, 100 * $7, 100 * $8) }
		END {
			for (c = 1; c <= k; c++) {
				for (i = 0; i <= last; i++) print row[c, i]
				printf "\n\n"
				# two lines: the type, and its gain (blank at iteration 0)
				print name[c] " (n=" size[c] ")" > titles
				t = ""
				if (name[c] in gain) {
					split(gain[name[c]], g, "\t")
					t = sprintf("%+.0f points [%+.0f, %+.0f]: %s", 100 * g[5], 100 * g[6],
						100 * g[7], (g[6] > 0 || g[7] < 0 ? "real" : "noise"))
				}
				print t > titles
			}
		}' "$tsv" > "$RUN/report.blocks"
	gnuplot -e "data='$RUN/report.blocks'; titles='$RUN/report.titles'; out='$RUN/report.png.tmp'; last=$n; title='Test accuracy by loop iteration'" \
		"$here/report.gp" && mv "$RUN/report.png.tmp" "$RUN/report.png"
	rm -f "$RUN/report.blocks" "$RUN/report.titles"
else
	echo "mk/report.sh: gnuplot not found (make deps installs it): no report.png" >&2
fi

# ---- the prompt of each iteration (issue 13): prompt.tsv, one row per
# iteration and prompt version of its generated items (provenance.prompt;
# the first 12 hex digits of provenance.prompt_sha256), with the
# reviewer's correctness of its items (iterN/review.jsonl.zst, made by the
# loop's REVIEWER) as mlde-prompt score gives it: items reviewed (correct
# plus wrong; skips and cannot-judge apart), correct, and the 95% Wilson
# interval.  "-" where no review was made (REVIEWER=none).
prompt_report() {
	ptsv=$RUN/prompt.tsv
	{
		printf 'iter	prompt_version	prompt_sha256	generated	reviewer	reviewed	correct	skipped	acc	lo	hi
'
		i=1
		while [ "$i" -le "$n" ]; do
			gen=$RUN/iter$i/gen.jsonl.zst rev=$RUN/iter$i/review.jsonl.zst
			if [ -f "$gen" ]; then
				: > "$ptsv.score"
				reviewer=-
				if [ -f "$rev" ]; then
					"$MLDE_BIN/mlde-prompt" score -q -Z "$rev" | jq -r 'select(.type == "all") |
						[.prompt_version // "-", .n, .correct, .skipped, .acc, .lo, .hi] | @tsv' > "$ptsv.score"
					reviewer=$(zstd -dc "$rev" | jq -r .reviewer | sort -u | paste -sd, -)
				fi
				zstd -dc "$gen" | jq -r '[.provenance.prompt // "-", (.provenance.prompt_sha256 // "-")[0:12]] | @tsv' |
					sort | uniq -c | awk -v i="$i" -v reviewer="${reviewer:--}" -v scores="$ptsv.score" '
					BEGIN { while ((getline line < scores) > 0) { split(line, f, "\t"); score[f[1]] = line } }
					{
						version = $2; sha = $3
						if (version in score) {
							split(score[version], f, "\t")
							printf "%d\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%.4f\t%.4f\t%.4f\n", i, version, sha, $1,
								reviewer, f[2], f[3], f[4], f[5], f[6], f[7]
						} else
							printf "%d\t%s\t%s\t%d\t%s\t0\t0\t0\t-\t-\t-\n", i, version, sha, $1, reviewer
					}'
			fi
			i=$((i + 1))
		done
	} > "$ptsv.tmp"
	rm -f "$ptsv.score"
	mv "$ptsv.tmp" "$ptsv"
}
prompt_report
# prompt_table: prompt.tsv for people
prompt_table() {
	[ "$n" -gt 0 ] && [ -f "$RUN/prompt.tsv" ] || return 0
	echo
	echo "The generation prompt and its correctness by iteration ($RUN/prompt.tsv;"
	echo "the reviewer's verdicts on the items, 95% Wilson interval, mlde-prompt(1)):"
	awk -F '\t' '
		NR == 1 { printf "%-5s %-20s %-12s %9s %-10s %8s  %s\n", "iter", "prompt", "sha256", "generated", "reviewer", "reviewed", "correct"; next }
		{
			c = $9 == "-" ? "-" : sprintf("%5.1f%% [%.1f, %.1f]", 100 * $9, 100 * $10, 100 * $11)
			printf "%-5s %-20s %-12s %9d %-10s %8d  %s\n", "iter" $1, $2, $3, $4, $5, $6, c
		}' "$RUN/prompt.tsv"
}

# for people; a reader that goes away (| head) ends it quietly, as the
# programs do
tables() {
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
	if [ "$n" -gt 0 ]; then
		echo
		echo "Is the gain real? iter0 against iter$n on the same test items ($RUN/gain.tsv):"
		echo "change in points with its 95% interval; items right only at iter$n / only at iter0;"
		echo "McNemar's mid-p (exact p in gain.tsv); \"real\" when the interval leaves out 0."
		awk -F '\t' -v last="$n" '
			NR == 1 { printf "%-22s %5s %6s %6s %7s  %-14s %9s %8s\n", "type", "n", "iter0", "iter" last, "change", "95% interval", "+/-", "p"; next }
			{
				verdict = $6 > 0 ? "real gain" : $7 < 0 ? "real loss" : "noise"
				p = $11 < 0.001 ? "<0.001" : sprintf("%.3f", $11)
				printf "%-22s %5d %6.1f %6.1f %+7.1f  [%+5.1f, %+5.1f] %9s %8s  %s\n", $1, $2,
					100 * $3, 100 * $4, 100 * $5, 100 * $6, 100 * $7, $8 "/" $9, p, verdict
			}' "$RUN/gain.tsv"
	fi
	if [ -f "$RUN/times.tsv" ]; then
		echo
		echo "Time of each step ($RUN/times.tsv; a step made more than once, as after an"
		echo "interruption, shows its latest time):"
		awk -F '\t' '{ t[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
			END { for (j = 1; j <= k; j++) { printf "  %-24s %8.2f s\n", order[j], t[order[j]]; sum += t[order[j]] }
			      printf "  %-24s %8.2f s\n", "total", sum }' "$RUN/times.tsv"
	fi
}
# the tables in a subshell: SIGPIPE ends it, not this script
status=0
(tables; prompt_table) || status=$?
[ "$status" -eq 141 ] && status=0
exit "$status"
