# mlde-eval's http backend against curl, on the same stub, in the same run:
# N vision requests (a world's test items, each with its 64x64 PNG as a
# data: URI), 64 in flight, the stub answering each after 100 ms.  Latency
# and concurrency cap the rate at 64 / 0.1 s = 640 requests/s; the goal is
# mlde-eval at least 0.9 of what `curl --parallel --parallel-max 64` gets
# sending the very bodies mlde-eval sent (saved by the stub in a first,
# untimed pass).  Also the CPU time per request of each client (user +
# system, mlde-eval's cache writes included), and the stub's own CPU share
# while each ran, to tell whether the stub is the bottleneck.  Each figure
# is the median of BENCH_EVAL_RUNS runs (5), with the lowest and highest;
# the ratio is mlde-eval's rate over curl's in the same round, the runs
# alternated (tests/bench/lib.sh, http_summary).
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
curl_config "$work/bodies" "$url" > "$work/curl.cfg"

# run KIND: one timed round, from a fresh cache each time (not timed)
run() {
	rm -rf "$work/cache" "${shm:-/nonexistent}/cache"
	case $1 in
	mlde-eval) http_round bench-eval-http mlde-eval eval_run "$work/cache" ;;
	mlde-eval-shm) http_round bench-eval-http mlde-eval-shm eval_run "$shm/cache" ;;
	curl) http_round bench-eval-http curl ;;
	esac
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

awk -v n="$N" -v b="$bytes" -v j="$J" -v d="$DELAY" -v runs="$RUNS" -v v="${BENCH_EVAL_VISION:+ (--vision)}" 'BEGIN {
	printf "mlde-eval http vs curl: %d requests (%.1f kB each), -j %d, stub delay %.0f ms%s, %d runs each\n",
		n, b / n / 1e3, j, d * 1000, v, runs }'
http_summary "$work/runs" "$N" "$J" "$DELAY" curl mlde-eval:mlde-eval mlde-eval-shm:mlde-eval,_cache_in_/dev/shm
