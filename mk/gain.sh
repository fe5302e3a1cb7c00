#!/bin/sh
# mk/gain.sh FROM TO [FROM TO]... - is a change of accuracy real?  FROM and
# TO are evaluations of two models on the same items (eval records, zstd or
# plain); items are paired by id (within each FROM TO pair, so several
# worlds can be pooled).  Writes a TSV, overall ("all") first, then each type:
#   type n acc_from acc_to diff lo hi gained lost p_exact p_midp
# diff = acc_to - acc_from; lo, hi its 95% interval (paired, Wald with
# Agresti and Min's half an item added to each cell of the 2x2 table);
# gained/lost the items right only at TO / only at FROM; p_exact and p_midp
# McNemar's exact and mid-p tests (two-sided) on those discordant pairs.
set -eu
export LC_ALL=C
[ $# -ge 2 ] && [ $(($# % 2)) -eq 0 ] || { echo "usage: mk/gain.sh FROM TO [FROM TO]..." >&2; exit 2; }
k=0
while [ $# -ge 2 ]; do
	k=$((k + 1))
	for side in from to; do
		zstdcat -f -- "$1" | jq -r --arg s "$side" --arg k "$k" \
			'[$s, $k + ":" + .id, .type, (if .correct then 1 else 0 end)] | @tsv'
		shift
	done
done | awk -F '\t' '
	$1 == "from" { from[$2] = $4; type[$2] = $3; next }
	{ to[$2] = $4; if (!($2 in type)) type[$2] = $3 }
	function add(g, f, t) {
		n[g]++; af[g] += f; at[g] += t
		if (t && !f) gained[g]++
		if (f && !t) lost[g]++
	}
	# two-sided binomial(m, 1/2) tail at k = min(gained, lost): exact and mid-p
	function mcnemar(g, l,    m, k, i, lp, pk, cdf) {
		m = g + l; k = g < l ? g : l
		if (m == 0) { p_exact = 1; p_mid = 1; return }
		lp = m * log(0.5); cdf = 0
		for (i = 0; i <= k; i++) {
			pk = exp(lp); cdf += pk
			lp += log(m - i) - log(i + 1)
		}
		p_exact = 2 * cdf; if (p_exact > 1) p_exact = 1
		p_mid = 2 * (cdf - pk / 2); if (p_mid > 1) p_mid = 1
	}
	END {
		z = 1.959963984540054
		for (id in from) {
			if (!(id in to)) { unpaired++; continue }
			add("all", from[id], to[id]); add(type[id], from[id], to[id])
			if (!(type[id] in seen)) { seen[type[id]] = 1; types[++nt] = type[id] }
		}
		for (id in to) if (!(id in from)) unpaired++
		if (unpaired) printf "mk/gain.sh: %d items are in only one of the evaluations; left out\n", unpaired > "/dev/stderr"
		# the types in name order, after "all"
		for (i = 2; i <= nt; i++) for (j = i; j > 1 && types[j - 1] > types[j]; j--) {
			s = types[j]; types[j] = types[j - 1]; types[j - 1] = s }
		types[0] = "all"
		printf "type\tn\tacc_from\tacc_to\tdiff\tlo\thi\tgained\tlost\tp_exact\tp_midp\n"
		for (i = 0; i <= nt; i++) {
			g = types[i]; if (!n[g]) continue
			b = gained[g] + 0.5; c = lost[g] + 0.5; m = n[g] + 2
			d2 = (b - c) / m
			se = sqrt((b / m + c / m - d2 * d2) / m)
			lo = d2 - z * se; hi = d2 + z * se
			if (lo < -1) lo = -1; if (hi > 1) hi = 1
			mcnemar(gained[g] + 0, lost[g] + 0)
			printf "%s\t%d\t%.4f\t%.4f\t%+.4f\t%+.4f\t%+.4f\t%d\t%d\t%.4g\t%.4g\n", g, n[g],
				af[g] / n[g], at[g] / n[g], (at[g] - af[g]) / n[g], lo, hi,
				gained[g], lost[g], p_exact, p_mid
		}
	}'
