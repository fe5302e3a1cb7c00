#!/bin/sh
# The loop as a Makefile DAG on a small configuration: the report's shape,
# byte-identical runs (also with -j2), resuming after an interruption,
# atomic targets, CONFIG= and command-line knobs.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$TESTS_DIR/.." && pwd)
unset MAKEFLAGS MAKELEVEL MFLAGS
TINY="WORLD_IMAGES=200 WORLD_BASE=400 WORLD_VAL=90 WORLD_TEST=90 BASE_EPOCHS=2 ITER_EPOCHS=1 THREADS=1"
SMALL="$TINY BUDGET=60"
# loop ARGS...: make in the repository with the small configuration
loop() { make -s -C "$ROOT" ${MLDE_MAKEVARS:-} $SMALL "$@"; }
# digest DIR: sha256 of every file of a run but times.tsv, by relative path
digest() { (cd "$1" && find . -type f ! -name times.tsv | sort | xargs sha256sum); }

run loop iter2 RUN="$SCRATCH/a"
is "$status" 0 "make iter2: status 0"
like out "^Accuracy by iteration" "the table is printed at the end"
like out "^  iter2 train +[0-9.]+ s$" "with the time of each step"
is "$(head -1 a/report.tsv)" "$(printf 'iter\tsplit\ttype\tn\tacc\tgenerated')" "report.tsv: the header"
is "$(awk 'END { print NR - 1 }' a/report.tsv)" "60" "report.tsv: 3 iterations x 2 splits x (all + 9 types)"
is "$(awk -F '\t' '$3 == "all" && $2 == "test" { print $1 ":" $4 }' a/report.tsv | tr '\n' ' ')" "0:90 1:90 2:90 " "report.tsv: every iteration, all 90 test items"
is "$(awk -F '\t' 'NR > 1 && ($5 < 0 || $5 > 1) { bad++ } END { print bad + 0 }' a/report.tsv)" "0" "report.tsv: acc in 0..1"
is "$(awk -F '\t' '$1 == 0 && $6 != 0 { bad++ } END { print bad + 0 }' a/report.tsv)" "0" "report.tsv: nothing generated at iter0"
gen1=$(zstdcat a/iter1/gen.jsonl.zst | wc -l | tr -d ' ')
is "$(awk -F '\t' '$1 == 1 && $2 == "val" && $3 != "all" { s += $6 } END { print s }' a/report.tsv)" "$gen1" "report.tsv: generated adds up to iter1's items"
is "$(awk -F '\t' '$1 == 1 && $2 == "val" && $3 == "all" { print $6 }' a/report.tsv)" "$gen1" "report.tsv: the all row holds the total"
is "$(od -An -tx1 -N4 a/report.png | tr -d ' ')" "89504e47" "report.png is a PNG"
is "$(zstdcat a/iter1/plan.jsonl.zst | wc -l | tr -d ' ')" "60" "iter1 plan: BUDGET requests"
is "$(find a -name '*.tmp' | wc -l | tr -d ' ')" "0" "no .tmp file left"
is "$(zstdcat a/iter2/rejects.jsonl.zst | wc -l | tr -d ' ')" "$((60 - $(zstdcat a/iter2/gen.jsonl.zst | wc -l)))" "items + rejects = plan records"

run loop -j2 iter2 RUN="$SCRATCH/b"
is "$status" 0 "make -j2 iter2: status 0"
digest a > a.sums
digest b > b.sums
same a.sums b.sums "make -j2 gives the same bytes as make, in every file but times.tsv"

run loop -n iter2 RUN="$SCRATCH/a"
unlike out "mlde-(train|eval|gen|sample|world)" "a finished run: make -n iter2 has nothing to rebuild"
run loop -n iter3 RUN="$SCRATCH/a"
like out "mlde-train .*--init $SCRATCH/a/iter2/model.safetensors" "make -n iter3 shows iteration 3 from model 2"
unlike out "iter[012]/model.safetensors.tmp|--out .*world.tmp" "  and none of the finished steps"

# an interrupted run resumes where it stopped and ends the same
(make -s -C "$ROOT" ${MLDE_MAKEVARS:-} $SMALL iter2 RUN="$SCRATCH/c" > c.log 2>&1 &
 echo $! > c.pid; wait) &
i=0
while [ ! -f c/iter1/gen.jsonl.zst ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
pkill -INT -P "$(cat c.pid)" 2>/dev/null || true
kill -INT "$(cat c.pid)" 2>/dev/null || true
wait
is "$(find c -name '*.tmp' | wc -l | tr -d ' ')" "0" "interrupted: no .tmp file left"
run loop iter2 RUN="$SCRATCH/c"
is "$status" 0 "interrupted, then make iter2 again: status 0"
digest c > c.sums
same a.sums c.sums "  and the same bytes as an uninterrupted run"

# a failing step leaves no target behind
run loop "$SCRATCH/d/iter1/gen.jsonl.zst" RUN="$SCRATCH/d" GEN_FLAGS=--no-such-flag
is "$status" 2 "a failing step fails make"
is "$(ls d/iter1/gen.jsonl.zst d/iter1/rejects.jsonl.zst 2>/dev/null | wc -l | tr -d ' ')" "0" "  and leaves no gen or rejects file"
ls d/iter1 > d.files
is "$(find d -name '*.tmp' | wc -l | tr -d ' ')" "0" "  nor a .tmp file"

# knobs: a CONFIG file, and the command line over it (no BUDGET in $TINY)
SMALL=$TINY
printf 'BUDGET = 30\nSTRATEGY = uniform\n' > mine.mk
run loop "$SCRATCH/e/iter1/plan.jsonl.zst" RUN="$SCRATCH/e" CONFIG="$SCRATCH/mine.mk"
is "$(zstdcat e/iter1/plan.jsonl.zst | wc -l | tr -d ' ')" "30" "CONFIG=mine.mk sets BUDGET"
is "$(zstdcat e/iter1/plan.jsonl.zst | jq -r .type | sort | uniq -c | awk '{print $1}' | sort -u | tr '\n' ' ')" "3 4 " "  and STRATEGY=uniform (30 over 9 types)"
run loop "$SCRATCH/f/iter1/plan.jsonl.zst" RUN="$SCRATCH/f" CONFIG="$SCRATCH/mine.mk" BUDGET=20
is "$(zstdcat f/iter1/plan.jsonl.zst | wc -l | tr -d ' ')" "20" "the command line wins over CONFIG"

# a run directory remembers its knobs: another value stops make, naming it
holds "\$RUN/knobs records the knobs" grep -qx 'BUDGET=20' f/knobs
cp f/iter1/plan.jsonl.zst plan.before
rm f/iter1/plan.jsonl.zst
run loop "$SCRATCH/f/iter1/plan.jsonl.zst" RUN="$SCRATCH/f" CONFIG="$SCRATCH/mine.mk" BUDGET=25
is "$status" 2 "another BUDGET for a made run: make fails"
like err "was made with BUDGET=20, not BUDGET=25 .*use another RUN=DIR" "  and names the knob, old and new"
holds "  having built nothing" not test -e f/iter1/plan.jsonl.zst
run loop "$SCRATCH/f/iter1/plan.jsonl.zst" RUN="$SCRATCH/f" CONFIG="$SCRATCH/mine.mk" BUDGET=20
same plan.before f/iter1/plan.jsonl.zst "  the same knobs again: made as before"

# the ablation: both strategies from one world and baseline, and the table
SMALL="$TINY BUDGET=60"
run loop ablation SEEDS=1 ABLATION_ITERS=1 ABLATION_DIR="$SCRATCH/abl"
is "$status" 0 "make ablation: status 0"
like out "^test accuracy \(%\), mean over 1 seed$" "  prints the table"
like out "^type +iter +abs +uniform +abs-uniform$" "  with a column per strategy and their difference"
like out "^all +1 +[0-9.]+ +[0-9.]+ +[-+][0-9.]+$" "  and a row for iteration 1 overall"
same abl/abs-seed1/iter0/model.safetensors abl/uniform-seed1/iter0/model.safetensors \
	"  uniform starts from the same baseline"
zstdcat abl/abs-seed1/iter1/plan.jsonl.zst | jq -r .type | sort | uniq -c | awk '{print $1}' | sort -n > abs.q
zstdcat abl/uniform-seed1/iter1/plan.jsonl.zst | jq -r .type | sort | uniq -c | awk '{print $1}' | sort -u > uni.q
is "$(tr '\n' ' ' < uni.q)" "6 7 " "  uniform: 60 requests, 6 or 7 a type"
holds "  abs: another split than uniform" not cmp -s abs.q uni.q

done_testing
