# The builtin model on the default world's base set (batch 64, the loop's
# settings): training samples/s of mlde-train, set against two peers
# measured in the same runs on the same threads -- OpenBLAS sgemm's rate
# (mlde-train --bench times it just before and just after the training,
# and takes the mean) and a PyTorch model of the same architecture on the
# same items, images decoded once (tests/bench/torch-model.py) -- then
# evaluation items/s.  Runs alternate
# mlde-train and the peer so that a change in the machine's load falls on
# both; each figure is the median of BENCH_RUNS runs with its range.
# Goals (issue 16): at least 0.60 of sgemm's rate, at least 3x PyTorch.
. "$(dirname "$0")/lib.sh"
T=${BENCH_THREADS:-2}
E=${BENCH_EPOCHS:-2}
W=$BENCH_DATA/world
PEER=$(dirname "$0")/torch-model.py

if [ ! -d "$W" ]; then
	rm -rf "$W.tmp"
	mlde-world -q --seed 1 --out "$W.tmp"
	mv "$W.tmp" "$W"
fi

# median_range: numbers on stdin -> "median min max"
median_range() {
	sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%g %g %g\n", m, v[1], v[NR] }'
}

# the first python3 that has torch: Debian's is /usr/bin/python3
py=
for p in ${BENCH_PYTHON:-/usr/bin/python3 python3}; do
	if "$p" -c 'import torch' 2> /dev/null; then
		py=$p
		break
	fi
done

: > "$BENCH_DATA/train.runs"
i=0
while [ "$i" -lt "$BENCH_RUNS" ]; do
	mlde-train --threads "$T" --batch 64 --lr 0.002 --epochs "$E" --bench --images "$W" \
		-o "$BENCH_DATA/model.st" "$W/base.jsonl.zst" 2> "$BENCH_DATA/train.log"
	# one line a run: samples/s and GFLOP/s of the training ("... in S s:
	# N samples/s, F GFLOP/s; ..."), sgemm's GFLOP/s ("sgemm alone on T
	# threads: G GFLOP/s; ..."), and the peer's samples/s when there is one
	set -- $(sed -n -e 's/.* \([0-9.]*\) samples\/s, \([0-9.]*\) GFLOP\/s;.*/\1 \2/p' \
		-e 's/.*sgemm alone on [0-9]* threads*: \([0-9.]*\) GFLOP\/s.*/\1/p' \
		"$BENCH_DATA/train.log")
	line="$1 $2 $3"
	if [ -n "$py" ]; then
		line="$line $(OMP_NUM_THREADS=$T "$py" "$PEER" "$W" "$W/base.jsonl.zst" "$T" "$E" |
			sed -n 's/^samples\/s //p')"
	fi
	echo "$line" >> "$BENCH_DATA/train.runs"
	i=$((i + 1))
done

set -- $(awk '{ print $1 }' "$BENCH_DATA/train.runs" | median_range)
printf "training: %.0f samples/s on %d threads, batch 64, %d epochs of %s items " \
	"$1" "$T" "$E" "$(zstdcat "$W/base.jsonl.zst" | wc -l | tr -d ' ')"
printf "(median of %d runs, %.0f-%.0f)\n" "$BENCH_RUNS" "$2" "$3"
set -- $(awk '{ print $2 / $3 }' "$BENCH_DATA/train.runs" | median_range)
g=$(awk '{ print $2 }' "$BENCH_DATA/train.runs" | median_range | cut -d' ' -f1)
s=$(awk '{ print $3 }' "$BENCH_DATA/train.runs" | median_range | cut -d' ' -f1)
printf "  against sgemm: %.1f GFLOP/s of sgemm's %.1f in the same runs: %.2f (%.2f-%.2f; goal: at least 0.60)\n" \
	"$g" "$s" "$1" "$2" "$3"
if [ -n "$py" ] && ! awk 'NF >= 4 { ok = 1 } END { exit !ok }' "$BENCH_DATA/train.runs"; then
	echo "  against PyTorch: the peer failed (run $PEER by hand to see why)"
elif [ -n "$py" ]; then
	p=$(awk 'NF >= 4 { print $4 }' "$BENCH_DATA/train.runs" | median_range)
	set -- $(awk 'NF >= 4 { print $1 / $4 }' "$BENCH_DATA/train.runs" | median_range)
	printf "  against PyTorch %s (same architecture, tests/bench/torch-model.py): %.0f samples/s (%.0f-%.0f); mlde-train is %.2fx (%.2f-%.2f; goal: at least 3)\n" \
		"$("$py" -c 'import torch; print(torch.__version__)')" \
		$p "$1" "$2" "$3"
else
	echo "  against PyTorch: skipped, no python3 with torch (Debian: apt-get install python3-torch)"
fi

# evaluation with the last run's model: every base item three times over,
# val and test
zstdcat "$W/base.jsonl.zst" "$W/base.jsonl.zst" "$W/base.jsonl.zst" \
	"$W/val.jsonl.zst" "$W/test.jsonl.zst" > "$BENCH_DATA/eval-items.jsonl"
n_eval=$(wc -l < "$BENCH_DATA/eval-items.jsonl" | tr -d ' ')
: > "$BENCH_DATA/eval.runs"
i=0
while [ "$i" -lt "$BENCH_RUNS" ]; do
	t0=$(now)
	mlde-eval -q --threads "$T" -m "$BENCH_DATA/model.st" --images "$W" \
		"$BENCH_DATA/eval-items.jsonl" > /dev/null
	t1=$(now)
	echo "$t0 $t1" | awk -v n="$n_eval" '{ print n / ($2 - $1) }' >> "$BENCH_DATA/eval.runs"
	i=$((i + 1))
done
set -- $(median_range < "$BENCH_DATA/eval.runs")
printf "eval: %d items: %.0f items/s (median of %d runs, %.0f-%.0f)\n" "$n_eval" "$1" \
	"$BENCH_RUNS" "$2" "$3"
