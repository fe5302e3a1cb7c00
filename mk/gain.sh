#!/bin/sh
# mk/gain.sh FROM TO [FROM TO]... - is a change of accuracy real?  FROM and
# TO are evaluations of two models on the same items (eval records, zstd or
# plain); items are paired by id (within each FROM TO pair, so several
# worlds can be pooled).  Writes a TSV, overall ("all") first, then each type:
#   type n acc_from acc_to diff lo hi gained lost p_exact p_midp
# diff = acc_to - acc_from; lo, hi its 95% interval for paired data
# (Newcombe's hybrid score interval, his method 10, from the two Wilson
# intervals and the correlation of the pairs);
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
	# 95% Wilson score interval of c in n: wlo, whi
	function wilson(c, n,    p, z2n, mid, half) {
		p = c / n; z2n = z * z / n
		mid = (p + z2n / 2) / (1 + z2n)
		half = z * sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
		wlo = c == 0 ? 0 : mid - half; whi = c == n ? 1 : mid + half
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
	BEGIN { z = 1.959963984540054 }
	END {
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
			# the 2x2 table: both right a, gained b, lost c, both wrong d
			b = gained[g]; c = lost[g]; a = af[g] - c; d = n[g] - a - b - c
			p1 = at[g] / n[g]; p2 = af[g] / n[g]
			wilson(at[g], n[g]); l1 = wlo; u1 = whi
			wilson(af[g], n[g]); l2 = wlo; u2 = whi
			den = (a + b) * (c + d) * (a + c) * (b + d)
			phi = den > 0 ? (a * d - b * c) / sqrt(den) : 0
			dl = (p1 - l1) ^ 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ^ 2
			du = (u1 - p1) ^ 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ^ 2
			lo = p1 - p2 - sqrt(dl > 0 ? dl : 0); hi = p1 - p2 + sqrt(du > 0 ? du : 0)
			mcnemar(gained[g] + 0, lost[g] + 0)
			printf "%s\t%d\t%.4f\t%.4f\t%+.4f\t%+.4f\t%+.4f\t%d\t%d\t%.4g\t%.4g\n", g, n[g],
				af[g] / n[g], at[g] / n[g], (at[g] - af[g]) / n[g], lo, hi,
				gained[g], lost[g], p_exact, p_mid
		}
	}'
