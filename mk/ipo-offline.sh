#!/bin/sh
# mk/ipo-offline.sh [OUT]: IPO measured offline, on the embedded world.
# For each seed, the loop (CONFIG, default examples/small.mk: a world of 600
# pool images, 1500 base items, 450 val and 450 test; with BUDGET, default
# 1200 plans an iteration, so that the generated items weigh against the
# base set) runs to iteration ITER (default 1) three ways:
#   clean     the world backend as it is
#   faulty    mlde-gen --world-faults all=RATE (default 0.2: a fifth of the
#             items wrong, the five kinds of mlde-gen(1) equally)
#   filtered  the same faulty items, but each iteration trains only on those
#             the world reviewer accepts (the loop's GEN_FILTER=accepted)
# and the reviewer's correctness estimate over a sample of SAMPLE (200)
# items of the faulty iteration 1 (the loop's review step, REVIEW_SAMPLE:
# every k-th item; mlde-prompt score's 95% Wilson interval) is set beside
# the true rate of the same items (from provenance.fault).  The three ways share the world and iteration
# 0 (copied, times kept, so make does not redo them).  Writes OUT/figures.tsv
# (default OUT: runs/ipo-offline) and prints it with the means over seeds.
#
#   SEEDS="1 2 3" RATE=0.2 ITER=1 sh mk/ipo-offline.sh
#   FAULTS=wrong-answer=0.4 sh mk/ipo-offline.sh runs/ipo-wrong   (any --world-faults)
#
# MLDE_BIN names the build (default bin).
# On 2 shared cores, THREADS=1: about a minute and a half a seed for ITER=1.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${MLDE_BIN:-$root/bin}" && pwd)
OUT=${1:-runs/ipo-offline}
SEEDS=${SEEDS:-1 2 3}
RATE=${RATE:-0.2}
ITER=${ITER:-1}
SAMPLE=${SAMPLE:-200}
CONFIG=${CONFIG:-examples/small.mk}
BUDGET=${BUDGET:-1200}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
FAULTS="--world-faults ${FAULTS:-all=$RATE}"

# loop RUN GEN_FLAGS TARGET|KNOB=VALUE...: make TARGETs of the loop in RUN
loop() {
	run=$1 flags=$2
	shift 2
	make -s -C "$root" CONFIG="$CONFIG" BUDGET="$BUDGET" THREADS=1 SEED="$seed" RUN="$run" REVIEW_SAMPLE="$SAMPLE" \
		GEN_FLAGS="$flags" "$@" > "$run.log" 2>&1 ||
		{ echo "ipo-offline: make in $run failed:" >&2; tail -20 "$run.log" >&2; exit 1; }
}
# acc RUN N: test accuracy of model N
acc() {
	zstd -dc "$1/iter$2/test.eval.jsonl.zst" |
		jq -s '(map(select(.correct)) | length) / length' | awk '{ printf "%.4f", $1 }'
}
printf 'seed\ttrue\testimate\tlo\thi\tinside\tcannot\titer0\tclean\tfaulty\tfiltered\tkept\n' > "$OUT/figures.tsv"
for seed in $SEEDS; do
	clean=$OUT/s$seed-clean faulty=$OUT/s$seed-faulty filtered=$OUT/s$seed-filtered
	loop "$clean" "" "iter$ITER-files"
	# iteration 0 and the world are the same for all three
	for r in "$faulty" "$filtered"; do
		if [ ! -e "$r/iter0/model.safetensors" ]; then
			mkdir -p "$r"
			cp -pr "$clean/world" "$clean/iter0" "$r/"
		fi
	done
	loop "$faulty" "$FAULTS" "iter$ITER-files"
	loop "$filtered" "$FAULTS" "iter$ITER-files" GEN_FILTER=accepted

	# the reviewer's estimate on the sample of iteration 1 (the loop's review
	# step), and the true rate of the same items
	zstd -dc "$faulty/iter1/review.jsonl.zst" | jq -r .item > "$OUT/s$seed-sample.ids"
	n=$(wc -l < "$OUT/s$seed-sample.ids" | tr -d ' ')
	good=$(zstd -dc "$faulty/iter1/gen.jsonl.zst" | jq -r --rawfile ids "$OUT/s$seed-sample.ids" \
		'($ids | split("\n") | map({key: ., value: true}) | from_entries) as $in |
		select($in[.id] and .provenance.fault == null) | .id' | wc -l | tr -d ' ')
	"$BIN/mlde-prompt" score -q -Z "$faulty/iter1/review.jsonl.zst" |
		jq -r 'select(.type == "all") | [.acc, .lo, .hi, .skipped] | @tsv' > "$OUT/s$seed-sample.score"
	estimate=$(cut -f1 "$OUT/s$seed-sample.score")
	interval=$(awk -F '\t' '{ printf "%.4f\t%.4f", $2, $3 }' "$OUT/s$seed-sample.score")
	cannot=$(cut -f4 "$OUT/s$seed-sample.score")
	inside=$(echo "$interval" | awk -v t="$good" -v n="$n" '{ print (t / n >= $1 && t / n <= $2) ? "yes" : "no" }')
	kept=$(zstd -dc "$filtered/iter1/gen.accepted.jsonl.zst" | wc -l | tr -d ' ')
	printf '%s\t%.4f\t%.4f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$seed" \
		"$(echo "$good $n" | awk '{ print $1 / $2 }')" \
		"$estimate" "$interval" "$inside" "$cannot" \
		"$(acc "$clean" 0)" "$(acc "$clean" "$ITER")" "$(acc "$faulty" "$ITER")" \
		"$(acc "$filtered" "$ITER")" "$kept/$(zstd -dc "$faulty/iter1/gen.jsonl.zst" | wc -l | tr -d ' ')" \
		>> "$OUT/figures.tsv"
done
# the means, and how much of the clean loop's gain the filter keeps
awk -F'\t' -v iter="$ITER" -v rate="${FAULTS#--world-faults }" 'NR > 1 { n++
		for (i = 2; i <= 5; i++) m[i] += $i; for (i = 8; i <= 11; i++) m[i] += $i
		in_ += $6 == "yes" }
	END { for (i in m) m[i] /= n
		printf "mean\t%.4f\t%.4f\t%.4f\t%.4f\t%d/%d\t\t%.4f\t%.4f\t%.4f\t%.4f\n",
			m[2], m[3], m[4], m[5], in_, n, m[8], m[9], m[10], m[11]
		g = m[9] - m[8]
		printf "# faults %s; test accuracy at iter%s; gain over iter0: clean %+.4f, faulty %+.4f, filtered %+.4f", rate, iter, g, m[10] - m[8], m[11] - m[8]
		if (g > 0) printf "; the filter keeps %.0f%% of the clean gain", 100 * (m[11] - m[8]) / g
		printf "\n" }' "$OUT/figures.tsv" >> "$OUT/figures.tsv"
cat "$OUT/figures.tsv"
