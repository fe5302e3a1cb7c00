# mlde-gen's http backend at the issue's scale: 2,000 requests, 64 in flight,
# against the stub server answering each after 100 ms.  Latency and
# concurrency cap the rate at 64 / 0.1 s = 640 requests/s; the goal is at
# least 80% of that.  Also: mlde-gen's CPU time per request (user + system,
# cache writes included) and the stub's own CPU, to tell whether the stub
# is the bottleneck.  The prompts are the default template over world plans,
# so the request bodies have a realistic size (about 4 kB).
. "$(dirname "$0")/lib.sh"
N=${BENCH_GEN_REQUESTS:-2000}
J=${BENCH_GEN_JOBS:-64}
DELAY=${BENCH_GEN_DELAY:-0.1}
TESTS=$(cd "$(dirname "$0")/.." && pwd)
# under build/bench, not /tmp: on a busy shared /tmp, creating the 2,000
# cache entries alone has been seen to cost ~1 ms of system time each
work=$(mktemp -d "$BENCH_DATA/gen.XXXXXX")
stub_pid=
trap '[ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null; rm -rf "$work"' EXIT

mlde-world -q --seed 9 --out "$work/w" --images 500 --base 1 --val 1 --test 1
zstdcat "$work/w/pool.jsonl.zst" | awk -v n="$N" '{ pool[NR] = $0 } END {
	split("scene_understanding instance_identity instance_attributes instance_location instances_counting spatial_relation instance_interaction visual_reasoning text_understanding", t, " ")
	for (i = 0; i < n; i++)
		printf "{\"id\":\"bench-%05d\",\"type\":\"%s\",\"query\":%s,\"examples\":[{\"question\":\"What color is the small circle?\",\"options\":[\"red\",\"blue\",\"green\",\"yellow\"],\"answer\":2}]}\n", i, t[1 + i % 9], pool[1 + i % NR]
}' > "$work/plans.jsonl"

perl "$TESTS/stub-openai.pl" --port-file "$work/port" --log "$work/stub.log" --delay "$DELAY" &
stub_pid=$!
while [ ! -s "$work/port" ]; do sleep 0.05; done
bytes=$(mlde-gen -q --emit prompt -Z --prompt "$TESTS/../prompts/default.txt" "$work/plans.jsonl" | head -1 | wc -c)

t0=$(now)
OPENAI_API_KEY=sk-bench /usr/bin/time -f "%U %S" -o "$work/cpu" mlde-gen -q \
	--prompt "$TESTS/../prompts/default.txt" --cache "$work/cache" \
	--base-url "http://127.0.0.1:$(cat "$work/port")/v1" -j "$J" --timeout 30 \
	"$work/plans.jsonl" > "$work/items.zst"
t1=$(now)
kill "$stub_pid"
wait "$stub_pid" 2>/dev/null || :
stub_pid=
sent=$(grep -c ' ok auth=' "$work/stub.log")
items=$(zstdcat "$work/items.zst" | wc -l)
awk -v n="$N" -v j="$J" -v d="$DELAY" -v t0="$t0" -v t1="$t1" -v sent="$sent" -v items="$items" \
	-v bytes="$bytes" -v cpu="$(cat "$work/cpu")" -v stub="$(awk '/^cpu/ { print $2 + $3 }' "$work/stub.log")" 'BEGIN {
	split(cpu, c, " "); wall = t1 - t0; rate = n / wall; limit = j / d
	printf "mlde-gen http: %d requests (%d answered, %d items), -j %d, stub delay %.0f ms, prompt ~%d bytes\n", n, sent, items, j, d * 1000, bytes
	printf "  %.2f s wall, %.0f requests/s = %.1f%% of the %.0f/s that latency and concurrency allow (goal 80%%)\n", wall, rate, 100 * rate / limit, limit
	printf "  mlde-gen CPU %.2f s (user %.2f, sys %.2f): %.0f us per request\n", c[1] + c[2], c[1], c[2], 1e6 * (c[1] + c[2]) / n
	printf "  stub CPU %.2f s: %.0f%% of one core over the run\n", stub, 100 * stub / wall
}'
