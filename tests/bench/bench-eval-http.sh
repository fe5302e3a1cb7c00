# mlde-eval's http backend against curl, on the same stub, in the same run:
# N vision requests (a world's test items, each with its 64x64 PNG as a
# data: URI), 64 in flight, the stub answering each after 100 ms.  Latency
# and concurrency cap the rate at 64 / 0.1 s = 640 requests/s; the goal is
# mlde-eval at least 0.9 of what `curl --parallel --parallel-max 64` gets
# sending the very bodies mlde-eval sent (saved by the stub in a first,
# untimed pass).  Also the CPU time per request of each client (user +
# system, mlde-eval's cache writes included), and the stub's own CPU share
# while each ran, to tell whether the stub is the bottleneck.  Each figure
# is the median of BENCH_EVAL_RUNS runs (5), with the lowest and highest.
. "$(dirname "$0")/lib.sh"
N=${BENCH_EVAL_REQUESTS:-1280}
J=${BENCH_EVAL_JOBS:-64}
DELAY=${BENCH_EVAL_DELAY:-0.1}
# five pairs by default: on a shared machine a run of a second or two is noisy
RUNS=${BENCH_EVAL_RUNS:-5}
TESTS=$(cd "$(dirname "$0")/.." && pwd)
# under build/bench, not /tmp (see bench-gen.sh: cache writes on a busy /tmp)
work=$(mktemp -d "$BENCH_DATA/eval-http.XXXXXX")
stub_pid=
trap '[ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null; rm -rf "$work"' EXIT
export OPENAI_API_KEY=sk-bench

mlde-world -q --seed 9 --out "$work/w" --images 40 --base 1 --val 1 --test "$N"
mkdir "$work/bodies"
# --vision: the stub checks every request too, at some CPU cost
perl "$TESTS/stub-openai.pl" --port-file "$work/port" --log "$work/stub.log" --delay "$DELAY" \
	--reply B --save-bodies "$work/bodies" ${BENCH_EVAL_VISION:+--vision} &
stub_pid=$!
while [ ! -s "$work/port" ]; do sleep 0.05; done
url=http://127.0.0.1:$(cat "$work/port")/v1

# stub_cpu: the stub's user + system seconds so far (/proc, clock ticks)
tck=$(getconf CLK_TCK)
stub_cpu() { awk -v t="$tck" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / t }' "/proc/$stub_pid/stat"; }
answered() { grep -c ' ok auth=' "$work/stub.log" || :; }

# eval_run CACHE [time(1) ARGS]: mlde-eval over the test items
eval_run() {
	cache=$1
	shift
	"$@" mlde-eval -q --backend http -m bench-model --base-url "$url" --images "$work/w" \
		--cache "$cache" -j "$J" --timeout 30 "$work/w/test.jsonl.zst" > "$work/ev.zst"
}
# mlde-eval also with its cache in memory, where /dev/shm is: what the
# file system costs it, which curl (writing no cache) never pays
shm=
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/mlde-bench.XXXXXX)
	trap '[ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null; rm -rf "$work" "$shm"' EXIT
fi

# the first pass: the bodies, and mlde-eval working at all
eval_run "$work/cache"
n_bodies=$(ls "$work/bodies" | wc -l | tr -d ' ')
if [ "$n_bodies" -ne "$N" ]; then
	echo "bench-eval-http: the stub saw $n_bodies distinct bodies, not $N" >&2
	exit 1
fi
bytes=$(cat "$work/bodies"/*.json | wc -c)
# one transfer per body, each with mlde-eval's headers (no 100-continue
# round trip, as mlde-eval's libcurl does), its status code written out
for f in "$work/bodies"/*.json; do
	printf 'next\nurl = "%s/chat/completions"\ndata-binary = "@%s"\noutput = "/dev/null"\n' "$url" "$f"
	printf 'header = "Content-Type: application/json"\nheader = "Authorization: Bearer sk-bench"\n'
	printf 'header = "Expect:"\nwrite-out = "%%{http_code}\\n"\n'
done | sed 1d > "$work/curl.cfg"

# run KIND: one timed run; appends "KIND T0 T1 USER SYS STUB0 STUB1 ANSWERED"
# to runs
run() {
	rm -rf "$work/cache" "${shm:-/nonexistent}/cache"  # a fresh cache each time, not timed
	a0=$(answered)
	s0=$(stub_cpu)
	t0=$(now)
	case $1 in
	mlde-eval) eval_run "$work/cache" /usr/bin/time -f "%U %S" -o "$work/cpu" ;;
	mlde-eval-shm) eval_run "$shm/cache" /usr/bin/time -f "%U %S" -o "$work/cpu" ;;
	curl) /usr/bin/time -f "%U %S" -o "$work/cpu" curl -s --parallel --parallel-max "$J" \
		-K "$work/curl.cfg" > "$work/codes" 2> "$work/curl.err" ;;
	esac
	t1=$(now)
	s1=$(stub_cpu)
	if [ "$1" = curl ] && [ "$(grep -c '^200$' "$work/codes")" -ne "$N" ]; then
		echo "bench-eval-http: curl got $(grep -c '^200$' "$work/codes") answers 200 of $N" >&2
		exit 1
	fi
	echo "$1 $t0 $t1 $(cat "$work/cpu") $s0 $s1 $(($(answered) - a0))" >> "$work/runs"
}
: > "$work/runs"
i=0
while [ "$i" -lt "$RUNS" ]; do
	# alternated, so a slow moment of the machine does not fall on one side
	run mlde-eval
	run curl
	[ -z "$shm" ] || run mlde-eval-shm
	i=$((i + 1))
done
kill "$stub_pid"
wait "$stub_pid" 2>/dev/null || :
stub_pid=

awk -v n="$N" -v j="$J" -v d="$DELAY" -v bytes="$bytes" -v vision="${BENCH_EVAL_VISION:+ (--vision)}" '
function median(a, k,   i, m, t, s) {
	# a[1..k] sorted in place (k is small), the middle one (mean of two)
	for (i = 2; i <= k; i++) { t = a[i]; for (m = i - 1; m >= 1 && a[m] > t; m--) a[m + 1] = a[m]; a[m + 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
function fig(kind, what, scale, fmt,   k, i, a, m) {
	k = 0
	for (i = 1; i <= runs; i++) if (kinds[i] == kind) a[++k] = val[what, i] * scale
	m = median(a, k)
	return sprintf(fmt " (" fmt ".." fmt ")", m, a[1], a[k])
}
function med(kind, what,   k, i, a) {
	k = 0
	for (i = 1; i <= runs; i++) if (kinds[i] == kind) a[++k] = val[what, i]
	return median(a, k)
}
{
	runs++; kinds[runs] = $1; seen[$1] = 1; wall = $3 - $2
	val["rate", runs] = n / wall
	val["cpu", runs] = ($4 + $5) / n
	val["user", runs] = $4 / n
	val["sys", runs] = $5 / n
	val["stub", runs] = ($7 - $6) / wall
	val["answered", runs] = $8
	if ($8 != n) short = short " " $1 "(" $8 ")"
}
END {
	limit = j / d
	printf "mlde-eval http vs curl: %d requests (%.0f kB each), -j %d, stub delay %.0f ms%s, %d runs each\n",
		n, bytes / n / 1e3, j, d * 1000, vision, runs / length(seen)
	split("mlde-eval curl mlde-eval-shm", order, " ")
	name["mlde-eval"] = "mlde-eval"; name["curl"] = "curl"; name["mlde-eval-shm"] = "mlde-eval, cache in /dev/shm"
	for (c = 1; c <= 3; c++) {
		k = order[c]
		if (!(k in seen)) continue
		printf "  %s: %s requests/s\n", name[k], fig(k, "rate", 1, "%.0f")
		printf "  %-10s CPU per request %s us (user %.0f, system %.0f); the stub %s%% of a core meanwhile\n",
			"", fig(k, "cpu", 1e6, "%.0f"), 1e6 * med(k, "user"), 1e6 * med(k, "sys"), fig(k, "stub", 100, "%.0f")
		if (med(k, "stub") > 0.8) busy = 1
	}
	printf "  ratio: %.2f of curl'"'"'s rate (goal: at least 0.9); curl %.0f%% of the %.0f/s that latency and concurrency allow\n",
		med("mlde-eval", "rate") / med("curl", "rate"), 100 * med("curl", "rate") / limit, limit
	if ("mlde-eval-shm" in seen)
		printf "  ratio with the cache in memory: %.2f\n", med("mlde-eval-shm", "rate") / med("curl", "rate")
	if (busy)
		print "  the stub used over 80% of a core: it may be the bottleneck, and the ratio says less"
	if (short != "") print "  runs where the stub did not answer every request:" short
}' "$work/runs"
