# tests/bench/lib.sh - helpers for the benchmarks: a data cache under
# build/bench (made once, reused), wall-clock timing, medians with their
# range, and the timed rounds and figures of an HTTP client against curl
# on the same stub.
set -eu
export LC_ALL=C
PATH=$MLDE_BIN:$PATH
BENCH_DATA=${BENCH_DATA:-build/bench}
BENCH_RUNS=${BENCH_RUNS:-3}
mkdir -p "$BENCH_DATA"

now() { date +%s.%N; }

# median_range: numbers on stdin, one a line; prints "MEDIAN LOW HIGH" (of
# an even count, the median is the mean of the middle two)
median_range() {
	sort -g | awk '{ a[NR] = $1 } END {
		if (!NR) exit 1
		printf "%s %s %s\n", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2, a[1], a[NR] }'
}

# wall CMD: run the shell string CMD once; print its wall-clock seconds
wall() {
	w0=$(now)
	sh -c "$1"
	w1=$(now)
	echo "$w0 $w1" | awk '{ printf "%.3f\n", $2 - $1 }'
}

# curl_config BODIES URL: a curl -K file sending each BODIES/*.json once to
# URL/chat/completions with the headers mlde's libcurl sends (no
# 100-continue round trip), each status code written out
curl_config() {
	for f in "$1"/*.json; do
		printf 'next\nurl = "%s/chat/completions"\ndata-binary = "@%s"\noutput = "/dev/null"\n' "$2" "$f"
		printf 'header = "Content-Type: application/json"\nheader = "Authorization: Bearer sk-bench"\n'
		printf 'header = "Expect:"\nwrite-out = "%%{http_code}\\n"\n'
	done | sed 1d
}

# http_round NAME KIND [COMMAND...]: one timed round of an HTTP bench,
# appended to $work/runs as "KIND T0 T1 USER SYS STUB0 STUB1 ANSWERED".
# With a COMMAND, it runs with time(1)'s words after its own (the bench's
# *_run CACHE [time(1) ARGS]); without, curl sends $work/curl.cfg and NAME
# fails unless all $N are answered 200.  The bench defines J, N, work, and
# answered and stub_cpu (the stub's answers and CPU seconds so far).
http_round() {
	name=$1 kind=$2
	shift 2
	a0=$(answered)
	s0=$(stub_cpu)
	t0=$(now)
	if [ $# -gt 0 ]; then
		"$@" /usr/bin/time -f "%U %S" -o "$work/cpu"
	else
		/usr/bin/time -f "%U %S" -o "$work/cpu" curl -s --parallel --parallel-max "$J" \
			-K "$work/curl.cfg" > "$work/codes" 2> "$work/curl.err"
	fi
	t1=$(now)
	s1=$(stub_cpu)
	if [ $# -eq 0 ] && [ "$(grep -c '^200$' "$work/codes")" -ne "$N" ]; then
		echo "$name: curl got $(grep -c '^200$' "$work/codes") answers 200 of $N" >&2
		exit 1
	fi
	echo "$kind $t0 $t1 $(cat "$work/cpu") $s0 $s1 $(($(answered) - a0))" >> "$work/runs"
}

# http_summary RUNS N J DELAY PEER KIND:LABEL...: the figures of RUNS, lines
# "KIND T0 T1 USER SYS STUB0 STUB1 ANSWERED" of clients alternated with
# their PEER (curl) on the same stub: each KIND's requests/s and CPU per
# request, and its rate as a ratio of PEER's in the same round (its i-th
# run against PEER's i-th), each the median of the runs with the lowest
# and highest; then PEER's share of what latency and concurrency allow.
http_summary() {
	runs=$1 n=$2 j=$3 d=$4 peer=$5
	shift 5
	awk -v n="$n" -v j="$j" -v d="$d" -v peer="$peer" -v kinds="$*" '
function sort(a, k,   i, m, t) {
	for (i = 2; i <= k; i++) { t = a[i]; for (m = i - 1; m >= 1 && a[m] > t; m--) a[m + 1] = a[m]; a[m + 1] = t }
}
function median(a, k) { return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
# fig(KIND, WHAT, SCALE, FMT): "M (LO..HI)" over the runs of KIND
function fig(kind, what, scale, fmt,   k, i, a) {
	k = 0
	for (i = 1; i <= count[kind]; i++) a[++k] = val[kind, what, i] * scale
	sort(a, k)
	return sprintf(fmt " (" fmt ".." fmt ")", median(a, k), a[1], a[k])
}
function med(kind, what,   k, i, a) {
	k = 0
	for (i = 1; i <= count[kind]; i++) a[++k] = val[kind, what, i]
	sort(a, k)
	return median(a, k)
}
{
	i = ++count[$1]; wall = $3 - $2
	val[$1, "rate", i] = n / wall
	val[$1, "cpu", i] = ($4 + $5) / n
	val[$1, "user", i] = $4 / n
	val[$1, "sys", i] = $5 / n
	val[$1, "stub", i] = ($7 - $6) / wall
	if ($8 != n) short = short " " $1 "(" $8 ")"
}
END {
	nk = split(kinds, kl, " ")
	for (c = 1; c <= nk + 1; c++) {
		if (c <= nk) { k = kl[c]; sub(/:.*/, "", k); label = kl[c]; sub(/^[^:]*:/, "", label); gsub(/_/, " ", label) }
		else { k = peer; label = peer }
		if (!(k in count)) continue
		printf "  %s: %s requests/s\n", label, fig(k, "rate", 1, "%.0f")
		printf "    CPU per request %s us (user %.0f, system %.0f); the stub %s%% of a core meanwhile\n",
			fig(k, "cpu", 1e6, "%.0f"), 1e6 * med(k, "user"), 1e6 * med(k, "sys"), fig(k, "stub", 100, "%.0f")
		if (med(k, "stub") > 0.8) busy = 1
	}
	for (c = 1; c <= nk; c++) {
		k = kl[c]; sub(/:.*/, "", k); label = kl[c]; sub(/^[^:]*:/, "", label); gsub(/_/, " ", label)
		if (!(k in count)) continue
		m = 0
		for (i = 1; i <= count[k] && i <= count[peer]; i++) r[++m] = val[k, "rate", i] / val[peer, "rate", i]
		sort(r, m)
		printf "  ratio, %s: %.2f (%.2f..%.2f) of %s'"'"'s rate, round by round\n", label, median(r, m), r[1], r[m], peer
	}
	printf "  %s: %.0f%% of the %.0f/s that latency and concurrency allow\n", peer, 100 * med(peer, "rate") / (j / d), j / d
	if (busy)
		print "  the stub used over 80% of a core: it may be the bottleneck, and the ratio says less"
	if (short != "") print "  runs where the stub did not answer every request:" short
}' "$runs"
}
