# mlde-gen's pacing against a server that enforces a rate limit: N
# requests (5,000) against the stub limiting them to LIMIT per WINDOW
# seconds (100 per second: OpenAI's 600 a minute, ten times faster so that
# a run takes under a minute), a token bucket that starts full, as
# OpenAI's.  The least time the limit allows is (N - LIMIT) / (LIMIT /
# WINDOW): the first LIMIT at once, then the rate.  The figures: the run's
# wall time as a fraction of that least (goal: within 5%, 1.05), and the
# 429s the stub had to give (goal: a handful at most), when the stub states
# the limit in OpenAI's x-ratelimit-* headers; and, for comparison, the
# same limit unstated, which the client only learns by its 429s.  Each
# figure is the median of BENCH_PACING_RUNS runs (3), with the lowest and
# highest; the unstated case runs BENCH_PACING_BLIND_RUNS times (1).
. "$(dirname "$0")/lib.sh"
N=${BENCH_PACING_REQUESTS:-5000}
LIMIT=${BENCH_PACING_LIMIT:-100}
WINDOW=${BENCH_PACING_WINDOW:-1}
J=${BENCH_PACING_JOBS:-64}
DELAY=${BENCH_PACING_DELAY:-0.05}
RUNS=${BENCH_PACING_RUNS:-3}
BLIND=${BENCH_PACING_BLIND_RUNS:-1}
TESTS=$(cd "$(dirname "$0")/.." && pwd)
# under build/bench, not /tmp (see bench-gen.sh: cache writes on a busy /tmp)
work=$(mktemp -d "$BENCH_DATA/pacing.XXXXXX")
stub_pid=
trap '[ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null; rm -rf "$work"' EXIT
export OPENAI_API_KEY=sk-bench

awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"pace-%05d\",\"type\":\"x\",\"query\":{\"image\":\"x.png\"},\"examples\":[]}\n", i }' \
	> "$work/plans.jsonl"
printf '%s\n' 'Write one question about the picture of plan {{ .id }}.' > "$work/t.txt"

# run KIND HEADERS: one run against a fresh stub (its bucket full); a line
# "KIND t0 t1 429s-given 429s-seen items" in runs
run() {
	rm -rf "$work/cache" "$work/port" "$work/stats"
	perl "$TESTS/stub-openai.pl" --port-file "$work/port" --log /dev/null --delay "$DELAY" \
		--limit-rpm "$LIMIT" --limit-window "$WINDOW" --limit-headers "$2" \
		--limit-stats "$work/stats" &
	stub_pid=$!
	while [ ! -s "$work/port" ]; do sleep 0.05; done
	t0=$(now)
	mlde-gen -Z --prompt "$work/t.txt" --cache "$work/cache" --retries 100 --timeout 30 \
		--base-url "http://127.0.0.1:$(cat "$work/port")/v1" -j "$J" "$work/plans.jsonl" \
		> "$work/items.jsonl" 2> "$work/err"
	t1=$(now)
	kill "$stub_pid"
	wait "$stub_pid" 2>/dev/null || :
	stub_pid=
	echo "$1 $t0 $t1 $(awk '$1 == "limited-rpm" { print $2 }' "$work/stats")" \
		"$(sed -n 's/.*sent [0-9]* ([0-9]* retries, \([0-9]*\) throttled).*/\1/p' "$work/err")" \
		"$(wc -l < "$work/items.jsonl")" >> "$work/runs"
	sed -n 's/^mlde-gen: limited by: /  the last run, limited by: /p' "$work/err" > "$work/limited.$1"
}

: > "$work/runs"
i=0
while [ "$i" -lt "$RUNS" ]; do
	run headers on
	i=$((i + 1))
done
i=0
while [ "$i" -lt "$BLIND" ]; do
	run blind off
	i=$((i + 1))
done

awk -v n="$N" -v limit="$LIMIT" -v window="$WINDOW" -v j="$J" -v d="$DELAY" \
	-v runs="$RUNS" -v blind="$BLIND" '
function median(a, k,   i, m, t) {
	# a[1..k] sorted in place (k is small), the middle one (mean of two)
	for (i = 2; i <= k; i++) { t = a[i]; for (m = i - 1; m >= 1 && a[m] > t; m--) a[m + 1] = a[m]; a[m + 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
function fig(kind, what, fmt,   k, i, a, m) {
	k = 0
	for (i = 1; i <= nr; i++) if (kinds[i] == kind) a[++k] = val[what, i]
	m = median(a, k)
	return sprintf(fmt " (" fmt ".." fmt ")", m, a[1], a[k])
}
{
	nr++; kinds[nr] = $1
	val["frac", nr] = ($3 - $2) / least()
	val["wall", nr] = $3 - $2
	val["given", nr] = $4
	val["seen", nr] = $5
	if ($6 != n) short = short " " $1 "(" $6 " items)"
}
function least() { return (n - limit) / (limit / window) }
END {
	printf "mlde-gen pacing: %d requests, the stub allowing %d per %g s (a bucket of %d, %g/s), -j %d, stub delay %.0f ms\n",
		n, limit, window, limit, limit / window, j, d * 1000
	printf "  the least time the limit allows: (%d - %d) / %g = %.1f s\n", n, limit, limit / window, least()
	printf "  limit stated in x-ratelimit-* headers, %d runs: %s of the least (goal 1.05 at most), %s s;\n",
		runs, fig("headers", "frac", "%.3f"), fig("headers", "wall", "%.1f")
	printf "    429s given by the stub %s, seen by mlde-gen %s (goal: a handful at most)\n",
		fig("headers", "given", "%d"), fig("headers", "seen", "%d")
	if (blind > 0) {
		printf "  the same limit unstated (429s alone), %d run%s: %s of the least, %s 429s given\n",
			blind, blind == 1 ? "" : "s", fig("blind", "frac", "%.3f"), fig("blind", "given", "%d")
	}
	if (short != "") printf "  RUNS SHORT OF ITEMS:%s\n", short
}' "$work/runs"
sed 's/^  the last run/  stated: the last run/' "$work/limited.headers"
[ "$BLIND" -eq 0 ] || sed 's/^  the last run/  unstated: the last run/' "$work/limited.blind"
