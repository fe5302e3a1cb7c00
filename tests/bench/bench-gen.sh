# mlde-gen's http backend against curl, on the same stub, in the same run:
# 2,000 requests, 64 in flight, the stub answering each after 100 ms.
# Latency and concurrency cap the rate at 64 / 0.1 s = 640 requests/s; the
# goal is mlde-gen at least 0.8 of what `curl --parallel --parallel-max 64`
# gets sending the very bodies mlde-gen sent (saved by the stub in a first,
# untimed pass).  The prompts are the default template over world plans, so
# the bodies have a realistic size (about 4 kB).  Also the CPU time per
# request of each client (user + system, mlde-gen's cache writes
# included), and the stub's own CPU share while each ran, to tell whether
# the stub is the bottleneck.  Each figure is the median of BENCH_GEN_RUNS
# runs (5), with the lowest and highest; the ratio is mlde-gen's rate over
# curl's in the same round, the runs alternated (lib.sh, http_summary).
. "$(dirname "$0")/lib.sh"
N=${BENCH_GEN_REQUESTS:-2000}
J=${BENCH_GEN_JOBS:-64}
DELAY=${BENCH_GEN_DELAY:-0.1}
RUNS=${BENCH_GEN_RUNS:-5}
TESTS=$(cd "$(dirname "$0")/.." && pwd)
# under build/bench, not /tmp: on a busy shared /tmp, creating the 2,000
# cache entries alone has been seen to cost ~1 ms of system time each
work=$(mktemp -d "$BENCH_DATA/gen.XXXXXX")
stub_pid=
trap '[ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null; rm -rf "$work"' EXIT
export OPENAI_API_KEY=sk-bench

mlde-world -q --seed 9 --out "$work/w" --images 500 --base 1 --val 1 --test 1
zstdcat "$work/w/pool.jsonl.zst" | awk -v n="$N" '{ pool[NR] = $0 } END {
	split("scene_understanding instance_identity instance_attributes instance_location instances_counting spatial_relation instance_interaction visual_reasoning text_understanding", t, " ")
	for (i = 0; i < n; i++)
		printf "{\"id\":\"bench-%05d\",\"type\":\"%s\",\"query\":%s,\"examples\":[{\"question\":\"What color is the small circle?\",\"options\":[\"red\",\"blue\",\"green\",\"yellow\"],\"answer\":2}]}\n", i, t[1 + i % 9], pool[1 + i % NR]
}' > "$work/plans.jsonl"

mkdir "$work/bodies"
perl "$TESTS/stub-openai.pl" --port-file "$work/port" --log "$work/stub.log" --delay "$DELAY" \
	--save-bodies "$work/bodies" &
stub_pid=$!
while [ ! -s "$work/port" ]; do sleep 0.05; done
url=http://127.0.0.1:$(cat "$work/port")/v1

tck=$(getconf CLK_TCK)
stub_cpu() { awk -v t="$tck" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / t }' "/proc/$stub_pid/stat"; }
answered() { grep -c ' ok auth=' "$work/stub.log" || :; }

# gen_run CACHE [time(1) ARGS]: mlde-gen over the plans
gen_run() {
	cache=$1
	shift
	"$@" mlde-gen -q --prompt "$TESTS/../prompts/default.txt" --cache "$cache" --base-url "$url" \
		-j "$J" --timeout 30 "$work/plans.jsonl" > "$work/items.zst"
}

# the first pass: the bodies, and mlde-gen working at all
gen_run "$work/cache"
n_bodies=$(ls "$work/bodies" | wc -l | tr -d ' ')
if [ "$n_bodies" -ne "$N" ]; then
	echo "bench-gen: the stub saw $n_bodies distinct bodies, not $N" >&2
	exit 1
fi
items=$(zstdcat "$work/items.zst" | wc -l | tr -d ' ')
bytes=$(cat "$work/bodies"/*.json | wc -c)
curl_config "$work/bodies" "$url" > "$work/curl.cfg"

# run KIND: one timed round, from a fresh cache each time (not timed)
run() {
	rm -rf "$work/cache"
	case $1 in
	mlde-gen) http_round bench-gen mlde-gen gen_run "$work/cache" ;;
	curl) http_round bench-gen curl ;;
	esac
}
: > "$work/runs"
i=0
while [ "$i" -lt "$RUNS" ]; do
	# alternated, so a slow moment of the machine does not fall on one side
	run mlde-gen
	run curl
	i=$((i + 1))
done
kill "$stub_pid"
wait "$stub_pid" 2>/dev/null || :
stub_pid=

awk -v n="$N" -v items="$items" -v b="$bytes" -v j="$J" -v d="$DELAY" -v runs="$RUNS" 'BEGIN {
	printf "mlde-gen http vs curl: %d requests (%d items; %.1f kB each), -j %d, stub delay %.0f ms, %d runs each\n",
		n, items, b / n / 1e3, j, d * 1000, runs }'
http_summary "$work/runs" "$N" "$J" "$DELAY" curl mlde-gen:mlde-gen
