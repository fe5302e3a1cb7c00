# mlde-weak over 1,000,000 zstd eval records against the same aggregation
# (n, correct, acc, Wilson bounds, weight, unanswered per type) written as a
# zstdcat | jq pipeline, in the same run.  Goal: at least 1.5x the pipeline.
# Each figure is the median of BENCH_WEAK_RUNS runs of each (3: the
# pipeline takes some 20 s a run here), alternated, with the lowest and
# highest; the ratio is the pipeline's time over mlde-weak's in the same
# round.
. "$(dirname "$0")/lib.sh"
N=${BENCH_WEAK_RECORDS:-1000000}
RUNS=${BENCH_WEAK_RUNS:-3}
data=$BENCH_DATA/eval-$N.jsonl.zst

if [ ! -f "$data" ]; then
	# eval records shaped like mlde-eval's, 9 types of uneven accuracy
	awk -v n="$N" 'BEGIN {
		srand(1)
		split("scene_understanding instance_identity instance_attributes instance_location instances_counting spatial_relation instance_interaction visual_reasoning text_understanding", types, " ")
		for (i = 0; i < n; i++) {
			t = 1 + int(rand() * 9); answer = int(rand() * 4)
			if (rand() < 0.02) { pred = "null"; correct = "false" }
			else { ok = rand() < 0.35 + t * 0.06; pred = ok ? answer : (answer + 1) % 4; correct = ok ? "true" : "false" }
			printf "{\"id\":\"val-%07d\",\"image\":\"images/%06d.png\",\"question\":\"How many red shapes are in the image?\",\"options\":[\"1\",\"2\",\"3\",\"4\"],\"answer\":%d,\"type\":\"%s\",\"source\":\"world\",\"pred\":%s,\"correct\":%s,\"scores\":[%.4f,%.4f,%.4f,%.4f],\"model\":\"iter0/model.safetensors\"}\n", i, i % 5000, answer, types[t], pred, correct, rand(), rand(), rand(), rand()
		}
	}' | zstd -q -3 -o "$data.tmp" && mv "$data.tmp" "$data"
fi
bytes=$(zstdcat "$data" | wc -c)

jq_prog='
def wilson($c; $n): 1.959963984540054 as $z | ($c / $n) as $p | ($z * $z / $n) as $z2n
  | (1 + $z2n) as $d | (($p + $z2n / 2) / $d) as $center
  | ($z * ((($p * (1 - $p)) / $n + $z2n / (4 * $n)) | sqrt) / $d) as $half
  | [(if $c == 0 then 0 else ([0, $center - $half] | max) end),
     (if $c == $n then 1 else ([1, $center + $half] | min) end)];
reduce inputs as $r ({}; .[$r.type] |= {
    n: (.n + 1),
    correct: (.correct + (if $r.correct then 1 else 0 end)),
    unanswered: (.unanswered + (if $r.pred == null then 1 else 0 end))})
| to_entries | sort_by(.key)[] | .key as $t | .value as $g | wilson($g.correct; $g.n) as $w
| {type: $t, n: $g.n, correct: $g.correct, acc: ($g.correct / $g.n), lo: $w[0], hi: $w[1],
   weight: (1 - $g.correct / $g.n), unanswered: $g.unanswered}'

# same figures from both, or the comparison means nothing
mlde-weak -q "$data" | zstdcat > "$BENCH_DATA/weak.mlde"
zstdcat "$data" | jq -nc "$jq_prog" > "$BENCH_DATA/weak.jq"
if ! cmp -s "$BENCH_DATA/weak.mlde" "$BENCH_DATA/weak.jq"; then
	echo "bench-weak: mlde-weak and the jq pipeline disagree:" >&2
	diff "$BENCH_DATA/weak.mlde" "$BENCH_DATA/weak.jq" | head >&2
	exit 1
fi

rounds=$BENCH_DATA/weak.rounds
: > "$rounds"
i=0
while [ "$i" -lt "$RUNS" ]; do
	t_mlde=$(wall "mlde-weak -q '$data' > /dev/null")
	t_jq=$(wall "zstdcat '$data' | jq -nc '$jq_prog' | zstd -q > /dev/null")
	echo "$t_mlde $t_jq" >> "$rounds"
	i=$((i + 1))
done
m=$(cut -d' ' -f1 "$rounds" | median_range)
j=$(cut -d' ' -f2 "$rounds" | median_range)
r=$(awk '{ print $2 / $1 }' "$rounds" | median_range)
awk -v n="$N" -v b="$bytes" -v m="$m" -v j="$j" -v r="$r" -v runs="$RUNS" 'BEGIN {
	split(m, M, " "); split(j, J, " "); split(r, R, " ")
	printf "input: %d records, %.1f MB of JSON (zstd); %d runs each, median (lowest..highest)\n", n, b / 1e6, runs
	printf "mlde-weak:      %.2f (%.2f..%.2f) s  %.0f k records/s  %.1f MB/s\n", M[1], M[2], M[3], n / M[1] / 1e3, b / M[1] / 1e6
	printf "zstdcat | jq:   %.2f (%.2f..%.2f) s  %.0f k records/s  %.1f MB/s\n", J[1], J[2], J[3], n / J[1] / 1e3, b / J[1] / 1e6
	printf "ratio: %.2fx (%.2f..%.2f) the jq pipeline, round by round (goal: at least 1.5x)\n", R[1], R[2], R[3]
}'
