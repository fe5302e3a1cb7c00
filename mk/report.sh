#!/bin/sh
# mk/report.sh N - the report of iterations 0..N of $RUN: report.tsv (one
# row per iteration, split and type, with a 95% Wilson interval), gain.tsv
# (iteration 0 against N on the same test items, mk/gain.sh), report.png
# (gnuplot, mk/report.gp), cost.tsv (tokens and estimated cost per iteration
# and step), and readable tables with the time of each step on stdout.
# Called by `make iterN`.
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

# ---- cost (RUN/cost.tsv): the tokens the records' replies took, and their
# price at $PRICES (default: prompts/prices.tsv of the tree), per iteration
# and step: gen (the items' provenance.usage and the rejects' usage), eval
# (each eval record's usage, less its judge's and embedding's), judge, embed
# (the val and test evaluations and, with EMBED=http, the pool).  What the
# replies cost when they were bought: a rerun served from the reply cache
# paid nothing again.  A model without a price row costs 0; records without
# usage (the world backend, the builtin model) add nothing.
prices=${PRICES:-$MLDE_BIN/../prompts/prices.tsv}
[ -f "$prices" ] || prices=/dev/null
# usage_lines ITER STEP FILE: "iter step model prompt cached completion" per
# record with usage
usage_lines() {
	[ -f "$3" ] || return 0
	zstdcat "$3" | jq -r --arg i "$1" --arg s "$2" '
		def row(step; m; u): [$i, step, (m // "?"), (u.prompt_tokens // 0), (u.cached_tokens // 0),
			(u.completion_tokens // 0)] | @tsv;
		if $s == "gen" then
			(.provenance.usage // .usage) as $u | select($u) |
			row("gen"; .provenance.model // "(rejects)"; $u)
		else
			(select(.usage) | .usage as $u | (.judge_usage // {}) as $j | (.embedding_usage // {}) as $e |
			 select(($u.prompt_tokens // 0) - ($j.prompt_tokens // 0) - ($e.prompt_tokens // 0) > 0 or
				($u.completion_tokens // 0) - ($j.completion_tokens // 0) > 0) |
			 row($s; .model; {prompt_tokens: (($u.prompt_tokens // 0) - ($j.prompt_tokens // 0) - ($e.prompt_tokens // 0)),
				cached_tokens: (($u.cached_tokens // 0) - ($j.cached_tokens // 0) - ($e.cached_tokens // 0)),
				completion_tokens: (($u.completion_tokens // 0) - ($j.completion_tokens // 0) - ($e.completion_tokens // 0))})),
			(select(.judge_usage) | row("judge"; .judge_usage.model; .judge_usage)),
			(select(.embedding_usage) | row("embed"; .embedding_usage.model; .embedding_usage))
		end'
}
cost=$RUN/cost.tsv
{
	i=0
	while [ "$i" -le "$n" ]; do
		usage_lines "$i" gen "$RUN/iter$i/gen.jsonl.zst"
		usage_lines "$i" gen "$RUN/iter$i/rejects.jsonl.zst"
		usage_lines "$i" eval "$RUN/iter$i/val.eval.jsonl.zst"
		usage_lines "$i" eval "$RUN/iter$i/test.eval.jsonl.zst"
		usage_lines "$i" eval "$RUN/iter$i/pool.jsonl.zst"
		i=$((i + 1))
	done
} | awk -F '\t' -v prices="$prices" '
	# the price row of a model: its own, else the longest name it begins
	# with followed by "-" (mlde-gen(1), Cost)
	function price(m,   k, best, len) {
		if (m in pin) return m
		best = ""; len = 0
		for (k in pin) if (length(k) > len && substr(m, 1, length(k) + 1) == k "-") { best = k; len = length(k) }
		return best
	}
	BEGIN {
		while ((getline line < prices) > 0) {
			if (line ~ /^#/ || line == "") continue
			split(line, f, "\t"); pin[f[1]] = f[2]; pcached[f[1]] = f[3] == "-" ? f[2] : f[3]; pout[f[1]] = f[4]
		}
		OFS = "\t"
	}
	# rejects: priced as the model of the same iteration'"'"'s items
	$3 != "(rejects)" { genmodel[$1] = $2 == "gen" ? $3 : genmodel[$1] }
	{
		m = $3 == "(rejects)" ? ($1 in genmodel ? genmodel[$1] : "?") : $3
		key = $1 SUBSEP $2 SUBSEP m
		if (!(key in recs)) order[++k] = key
		recs[key]++; p[key] += $4; c[key] += $5; o[key] += $6
	}
	END {
		print "iter", "step", "model", "records", "prompt_tokens", "cached_tokens", "completion_tokens", "usd", "price"
		for (j = 1; j <= k; j++) {
			split(order[j], f, SUBSEP); r = price(f[3])
			usd = r == "" ? 0 : ((p[order[j]] - c[order[j]]) * pin[r] + c[order[j]] * pcached[r] + o[order[j]] * pout[r]) / 1e6
			print f[1], f[2], f[3], recs[order[j]], p[order[j]], c[order[j]], o[order[j]], sprintf("%.4f", usd), r == "" ? "none" : r
			ip[f[1]] += p[order[j]]; io[f[1]] += o[order[j]]; iu[f[1]] += usd
			if (!(f[1] in seen)) { seen[f[1]] = 1; iters[++ni] = f[1] }
		}
		for (j = 1; j <= ni; j++) { print iters[j], "all", "-", "-", ip[iters[j]], "-", io[iters[j]], sprintf("%.4f", iu[iters[j]]), "-"; tp += ip[iters[j]]; to += io[iters[j]]; tu += iu[iters[j]] }
		print "all", "all", "-", "-", tp + 0, "-", to + 0, sprintf("%.4f", tu), "-"
	}' > "$cost.tmp"
mv "$cost.tmp" "$cost"
cost_table() {
	echo
	if [ "$(wc -l < "$cost")" -le 2 ]; then
		echo "Cost ($cost): no usage in the records (the world backend and the builtin model cost nothing)"
		return 0
	fi
	echo "Tokens and estimated cost ($cost; prices: $prices):"
	awk -F '\t' 'NR > 1 && $2 != "all" { printf "  iter%-3s %-6s %-24s %12d in %10d out  $%9.4f\n", $1, $2, $3, $5, $7, $8 }
		NR > 1 && $2 == "all" { printf "  %-7s %-6s %-24s %12d in %10d out  $%9.4f\n", $1 == "all" ? "total" : "iter" $1, "all", "", $5, $7, $8 }' "$cost"
}
# ---- end of cost ----
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
	cost_table
}
# the tables in a subshell: SIGPIPE ends it, not this script
status=0
(tables; prompt_table) || status=$?
[ "$status" -eq 141 ] && status=0
exit "$status"
