# The builtin model on the default world: training the baseline (base set,
# the loop's iter0 settings), its FLOP rate against OpenBLAS sgemm measured
# in the same run on the same threads, and evaluation items/s.
# Goals: baseline training <= 60 s on 2 cores, >= 40% of sgemm's rate,
# eval >= 2,000 items/s.
. "$(dirname "$0")/lib.sh"
T=${BENCH_THREADS:-2}
W=$BENCH_DATA/world

if [ ! -d "$W" ]; then
	rm -rf "$W.tmp"
	mlde-world -q --seed 1 --out "$W.tmp"
	mv "$W.tmp" "$W"
fi
# every base item, three times over, so the timing is long enough to mean
# something
zstdcat "$W/base.jsonl.zst" "$W/base.jsonl.zst" "$W/base.jsonl.zst" \
	"$W/val.jsonl.zst" "$W/test.jsonl.zst" > "$BENCH_DATA/eval-items.jsonl"
n_eval=$(wc -l < "$BENCH_DATA/eval-items.jsonl" | tr -d ' ')

t0=$(now)
mlde-train --threads "$T" --batch 64 --lr 0.002 --epochs 12 --bench --images "$W" \
	-o "$BENCH_DATA/model.st" \
	"$W/base.jsonl.zst" 2> "$BENCH_DATA/train.log"
t1=$(now)
sed 's/^mlde-train: /  /' "$BENCH_DATA/train.log"
t_eval=$(best_of "mlde-eval -q --threads $T -m '$BENCH_DATA/model.st' --images '$W' \
	'$BENCH_DATA/eval-items.jsonl' > /dev/null")
awk -v a="$t0" -v b="$t1" -v n="$n_eval" -v e="$t_eval" -v t="$T" 'BEGIN {
	printf "baseline training: %.1f s wall on %d threads (goal: at most 60 s)\n", b - a, t
	printf "eval: %d items in %.2f s: %.0f items/s (goal: at least 2,000)\n", n, e, n / e
}'
mlde-eval -m "$BENCH_DATA/model.st" --images "$W" --threads "$T" "$W/test.jsonl.zst" \
	2>&1 > /dev/null | sed 's/^mlde-eval: /  test: /'
