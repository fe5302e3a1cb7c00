#!/bin/sh
# The loop as a Makefile DAG on a small configuration: the plan and the
# step lines, the report's shape (report.tsv, gain.tsv), byte-identical runs
# (also with -j2), resuming after an interruption, atomic targets, CONFIG=
# and command-line knobs, a report cut by a closed pipe, the ablation.
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
like err "^make iter2: 20 steps to make in $SCRATCH/a$" "the plan first: the number of steps"
like err "^  iter0 train$" "  and each step (not timed yet: no run had these knobs)"
like err "^iter1 gen +\.\.\.$" "a line when a step starts"
like err "^iter1 gen +[0-9.]+ s$" "  and one when it ends, with its time"
is "$(head -1 a/report.tsv)" "$(printf 'iter\tsplit\ttype\tn\tacc\tgenerated\tlo\thi')" "report.tsv: the header"
is "$(awk -F '\t' 'NR > 1 && !($7 <= $5 && $5 <= $8) { bad++ } END { print bad + 0 }' a/report.tsv)" "0" "report.tsv: lo <= acc <= hi"
is "$(awk -F '\t' '$1 == 2 && $2 == "test" && $3 == "all" { print $4 }' a/report.tsv)" "90" "  (the all row too)"
is "$(head -1 a/gain.tsv)" "$(printf 'type\tn\tacc_from\tacc_to\tdiff\tlo\thi\tgained\tlost\tp_exact\tp_midp')" "gain.tsv: the header"
is "$(awk -F '\t' 'NR == 2 { print $1 ":" $2 }' a/gain.tsv)" "all:90" "gain.tsv: all 90 test items paired, first"
# the gain by hand: join iter0's and iter2's test evals on the id
zstdcat a/iter0/test.eval.jsonl.zst | jq -r '[.id, (if .correct then 1 else 0 end)] | @tsv' | sort > e0
zstdcat a/iter2/test.eval.jsonl.zst | jq -r '[.id, (if .correct then 1 else 0 end)] | @tsv' | sort > e2
is "$(join e0 e2 | awk '$2 == 0 && $3 == 1 { g++ } $2 == 1 && $3 == 0 { l++ } END { print g + 0 "/" l + 0 }')" \
	"$(awk -F '\t' 'NR == 2 { print $8 "/" $9 }' a/gain.tsv)" "gain.tsv: gained/lost are the discordant pairs"
is "$(awk -F '\t' 'NR > 1 && !($6 <= $5 && $5 <= $7 && $10 >= 0 && $10 <= 1 && $11 <= $10) { bad++ } END { print bad + 0 }' a/gain.tsv)" \
	"0" "gain.tsv: lo <= diff <= hi, 0 <= mid-p <= p <= 1"
like out "^Is the gain real\? iter0 against iter2" "the report says whether the gain is real"
is "$(awk 'END { print NR - 1 }' a/report.tsv)" "60" "report.tsv: 3 iterations x 2 splits x (all + 9 types)"
is "$(awk -F '\t' '$3 == "all" && $2 == "test" { print $1 ":" $4 }' a/report.tsv | tr '\n' ' ')" "0:90 1:90 2:90 " "report.tsv: every iteration, all 90 test items"
is "$(awk -F '\t' 'NR > 1 && ($5 < 0 || $5 > 1) { bad++ } END { print bad + 0 }' a/report.tsv)" "0" "report.tsv: acc in 0..1"
is "$(awk -F '\t' '$1 == 0 && $6 != 0 { bad++ } END { print bad + 0 }' a/report.tsv)" "0" "report.tsv: nothing generated at iter0"
gen1=$(zstdcat a/iter1/gen.jsonl.zst | wc -l | tr -d ' ')
is "$(awk -F '\t' '$1 == 1 && $2 == "val" && $3 != "all" { s += $6 } END { print s }' a/report.tsv)" "$gen1" "report.tsv: generated adds up to iter1's items"
is "$(awk -F '\t' '$1 == 1 && $2 == "val" && $3 == "all" { print $6 }' a/report.tsv)" "$gen1" "report.tsv: the all row holds the total"
is "$(od -An -tx1 -N4 a/report.png | tr -d ' ')" "89504e47" "report.png is a PNG"

# the same knobs again, elsewhere: the plan gives the last times
run loop -j2 iter2 RUN="$SCRATCH/b"
is "$status" 0 "make -j2 iter2: status 0"
like err "^make iter2: 20 steps to make in $SCRATCH/b; the last time with these knobs:$" \
	"the same knobs again: the plan gives the last times"
like err "^  iter0 train +[0-9.]+ s$" "  of each step"
like err "^  total +[0-9.]+ s$" "  and their total"
is "$(zstdcat a/iter1/plan.jsonl.zst | wc -l | tr -d ' ')" "60" "iter1 plan: BUDGET requests"
is "$(find a -name '*.tmp' | wc -l | tr -d ' ')" "0" "no .tmp file left"
is "$(zstdcat a/iter2/rejects.jsonl.zst | wc -l | tr -d ' ')" "$((60 - $(zstdcat a/iter2/gen.jsonl.zst | wc -l)))" "items + rejects = plan records"

digest a > a.sums
digest b > b.sums
same a.sums b.sums "make -j2 gives the same bytes as make, in every file but times.tsv"

run loop -n iter2 RUN="$SCRATCH/a"
unlike out "mlde-(train|eval|gen|sample|world)" "a finished run: make -n iter2 has nothing to rebuild"
run loop iter2 RUN="$SCRATCH/a"
like err "^make iter2: $SCRATCH/a is made; the report only$" "  and make iter2 says so"
run loop -n iter3 RUN="$SCRATCH/a"
like out "mlde-train .*--init $SCRATCH/a/iter2/model.safetensors" "make -n iter3 shows iteration 3 from model 2"
unlike out "iter[012]/model.safetensors.tmp|--out .*world.tmp" "  and none of the finished steps"

# the long steps draw their progress on a terminal: no -q there
run loop -n iter1 RUN="$SCRATCH/t"
like out "mlde-train -q --threads" "not on a terminal: the loop runs mlde-train -q"
like out "mlde-gen -q --backend" "  and mlde-gen -q"
if command -v script > /dev/null; then
	run script -qec "make -s -n -C '$ROOT' ${MLDE_MAKEVARS:-} $SMALL iter1 RUN='$SCRATCH/t'" /dev/null
	like out "mlde-train +--threads" "on a terminal: mlde-train without -q, which draws its progress"
	like out "mlde-gen +--backend" "  and mlde-gen"
	like out "^make iter1: 12 steps to make in $SCRATCH/t" "  after the plan"
else
	ok 0 "# skip script(1) is not installed"
fi

# an interrupted run resumes where it stopped and ends the same.  make
# runs in a process group of its own (setsid), and the whole group is
# killed in iter1's training, as ^C kills a terminal's job (with
# SIGTERM: a background job of a script ignores SIGINT).
(set +e; setsid -w sh -c 'echo $$ > c.pid; exec "$@"' sh make -s -C "$ROOT" ${MLDE_MAKEVARS:-} $SMALL iter2 \
	RUN="$SCRATCH/c" > c.log 2>&1; echo $? > c.rc) &
i=0
# once iter1's training has started (its gen step is over, and make has
# seen it end: a gen still running when killed would be deleted by make)
while ! grep -q '^iter1 train *\.\.\.$' c.log 2> /dev/null && [ "$i" -lt 3000 ]; do
	sleep 0.1; i=$((i + 1))
done
while [ ! -s c.pid ]; do sleep 0.1; done
kill -TERM "-$(cat c.pid)" 2>/dev/null || true
wait
holds "interrupted: make failed" not test "$(cat c.rc)" = 0
is "$(find c -name '*.tmp' | wc -l | tr -d ' ')" "0" "interrupted: no .tmp file left"
holds "  the run was cut: iter1's items are made" test -f c/iter1/gen.jsonl.zst
holds "  but not iter2's model, nor its test evaluation" \
	not test -e c/iter2/model.safetensors -o -e c/iter2/test.eval.jsonl.zst
run loop iter2 RUN="$SCRATCH/c"
is "$status" 0 "interrupted, then make iter2 again: status 0"
digest c > c.sums
same a.sums c.sums "  and the same bytes as an uninterrupted run"

# a report cut by a closed pipe (| head) ends quietly, as the programs do
{ set +e; make -s -C "$ROOT" ${MLDE_MAKEVARS:-} $SMALL iter2 RUN="$SCRATCH/a" 2> pipe.err; echo $? > pipe.rc; } | true
is "$(cat pipe.rc)" "0" "make iter2 | true: status 0"
is "$(cat pipe.err)" "make iter2: $SCRATCH/a is made; the report only" "  and no error, only the plan"

# a failing step leaves no target behind
run loop "$SCRATCH/d/iter1/gen.jsonl.zst" RUN="$SCRATCH/d" GEN_FLAGS=--no-such-flag
is "$status" 2 "a failing step fails make"
is "$(ls d/iter1/gen.jsonl.zst d/iter1/rejects.jsonl.zst 2>/dev/null | wc -l | tr -d ' ')" "0" "  and leaves no gen or rejects file"
ls d/iter1 > d.files
is "$(find d -name '*.tmp' | wc -l | tr -d ' ')" "0" "  nor a .tmp file"

# a gen step whose requests fail for good (exit 4) keeps its rejects, the
# record of why: the run d again, with the http backend and no server (its
# knobs file removed: only the gen step depends on BACKEND and GEN_FLAGS)
rm d/knobs
run loop "$SCRATCH/d/iter1/gen.jsonl.zst" RUN="$SCRATCH/d" BACKEND=http \
	GEN_FLAGS="--base-url http://127.0.0.1:1/v1 --cache $SCRATCH/gen-cache"
is "$status" 2 "a gen step whose requests fail for good fails make"
holds "  and leaves no gen file" not test -e d/iter1/gen.jsonl.zst
is "$(zstdcat d/iter1/rejects.jsonl.zst | jq -r .reason | sort | uniq -c | awk '{ print $1, $2 }')" \
	"60 request-failed" "  but keeps its rejects, one per plan record"
like err "^mlde-gen: why: connection refused to 127\.0\.0\.1:1 \(60 requests\)$" "  and says why, under -q"
is "$(find d -name '*.tmp' | wc -l | tr -d ' ')" "0" "  with no .tmp file"

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

# the real loop's knobs (mk/config.mk): at their defaults they are not in
# RUN/knobs, so the embedded loop's file is as it was
holds "the embedded run's knobs name no knob of the real loop" \
	not grep -Eq '^(VAL_ITEMS|TEST_ITEMS|POOL|BASE_ITEMS|EVAL_BACKEND|EMBED|TRAIN_CMD|SERVE_CMD|EXPORT)=' a/knobs
# a launcher goes before the heavy steps only, and is no knob of the files
run loop -n iter1 RUN="$SCRATCH/t" LAUNCHER=nice
like out "'iter0 train' +nice .*/mlde-train " "LAUNCHER: before the training"
like out "'iter0 eval val' +nice .*/mlde-eval " "  the evaluations"
like out "'iter1 embed pool' +nice .*/mlde-eval " "  and the embedding"
unlike out "'iter1 (gen|weak|sample)' +nice" "  not the light steps"
run loop -n iter1 RUN="$SCRATCH/t" LAUNCHER=nice TRAIN_LAUNCHER=
unlike out "'iter0 train' +nice" "TRAIN_LAUNCHER= : none before the training"
like out "'iter0 eval test' +nice " "  the others keep LAUNCHER"
run loop "$SCRATCH/g/iter0/model.safetensors" RUN="$SCRATCH/g" TRAIN_LAUNCHER=nice EMBED=model
is "$status" 0 "a step under a launcher runs"
holds "  a real-loop knob set is in RUN/knobs" grep -qx 'EMBED=model' g/knobs
holds "  a launcher is not" not grep -q LAUNCHER g/knobs
# embeddings none: the pool as it is, val evaluated without --embed
run loop -n iter1 RUN="$SCRATCH/t" EMBED=none RETRIEVAL=random
like out "^ln -sfn .*/world/pool\.jsonl\.zst $SCRATCH/t/iter1/pool\.jsonl\.zst$" "EMBED=none: the pool linked, not embedded"
unlike out "'iter0 eval val'.* --embed " "  and val evaluated without --embed"
run loop -n iter1 RUN="$SCRATCH/t" EMBED=clip
is "$status" 2 "EMBED=clip: make stops"
like err "EMBED=clip: model, http or none" "  naming the choices"
run loop -n iter1 RUN="$SCRATCH/t" EMBED=http
like err "EMBED=http embeds through the evaluation's server: it needs EVAL_BACKEND=http" "EMBED=http with the builtin evaluation: stops"
run loop -n iter1 RUN="$SCRATCH/t" BASE_ITEMS=
like err "BASE_ITEMS is empty: MODEL0 must name iteration 0's checkpoint" "no base set and no MODEL0: stops"
# no base set: iteration 0 is MODEL0, linked; the later ones train on the
# generated items alone
run loop -n iter1 RUN="$SCRATCH/t" BASE_ITEMS= MODEL0="$SCRATCH/g/iter0/model.safetensors"
like out "^ln -sfn $SCRATCH/g/iter0/model\.safetensors $SCRATCH/t/iter0/model\.safetensors$" "no base set: iteration 0 is MODEL0, linked"
like out "'iter1 train' .*-o $SCRATCH/t/iter1/model\.safetensors +$SCRATCH/t/iter1/gen\.jsonl\.zst$" \
	"  and iteration 1 trains on its generated items alone"
run loop -n iter1 RUN="$SCRATCH/t" BASE_ITEMS= MODEL0="$SCRATCH/g/iter0/model.safetensors" REPLAY=50
like out "'iter1 train' .*-o $SCRATCH/t/iter1/model\.safetensors +$SCRATCH/t/iter1/gen\.jsonl\.zst$" \
	"  with REPLAY too: no base set to replay"

# REPLAY: an iteration trains on every generated item so far and, each
# epoch, a draw of REPLAY of the base set
run loop -n iter2 RUN="$SCRATCH/t" REPLAY=50
like out "'iter1 train' .* --old $SCRATCH/t/world/base\.jsonl\.zst --replay 50 $SCRATCH/t/iter1/gen\.jsonl\.zst$" \
	"REPLAY=50: iteration 1 trains on its items and 50 of the base set"
like out "'iter2 train' .* --old $SCRATCH/t/world/base\.jsonl\.zst --replay 50 $SCRATCH/t/iter1/gen\.jsonl\.zst $SCRATCH/t/iter2/gen\.jsonl\.zst$" \
	"  iteration 2 on every generated item and 50 of the base set"
like out "'iter0 train' .*-o $SCRATCH/t/iter0/model\.safetensors $SCRATCH/t/world/base\.jsonl\.zst$" \
	"  iteration 0 on the base set, as before"
run loop -n iter2 RUN="$SCRATCH/t" REPLAY=
like out "'iter2 train' .*-o $SCRATCH/t/iter2/model\.safetensors $SCRATCH/t/world/base\.jsonl\.zst $SCRATCH/t/iter1/gen\.jsonl\.zst $SCRATCH/t/iter2/gen\.jsonl\.zst$" \
	"REPLAY= : the base set and every generated item so far"
unlike out "--replay" "  and no --replay"
run loop "$SCRATCH/r/iter1/model.safetensors" RUN="$SCRATCH/r" REPLAY=50
is "$status" 0 "REPLAY=50: iteration 1 trained"
holds "  REPLAY in RUN/knobs" grep -qx 'REPLAY=50' r/knobs
holds "  and not when it is unset, so that file is as it was" not grep -q '^REPLAY' a/knobs
holds "  and in the model's metadata" grep -aq '"train_replay":"50"' r/iter1/model.safetensors

# the review step (REVIEWER, default world on the world's pool): each
# iteration's items judged, and the prompt's correctness in prompt.tsv
is "$(zstdcat a/iter1/review.jsonl.zst | jq -r .item | sort | tr '\n' ' ')" \
	"$(zstdcat a/iter1/gen.jsonl.zst | jq -r .id | sort | tr '\n' ' ')" \
	"iter1/review.jsonl.zst: fewer items than REVIEW_SAMPLE, all judged, once"
is "$(zstdcat a/iter2/review.jsonl.zst | jq -r '.reviewer + " " + .prompt_version + " " + .time' | sort -u)" \
	"world default 1970-01-01T00:00:00Z" "  by the world reviewer, naming the prompt version, at a fixed time"
holds "the embedded run's knobs name no knob of the review" not grep -Eq '^(REVIEWER|REVIEW_SAMPLE|JUDGE_FLAGS|GEN_FILTER)=' a/knobs
is "$(head -1 a/prompt.tsv)" "$(printf 'iter\tprompt_version\tprompt_sha256\tgenerated\treviewer\treviewed\tcorrect\tskipped\tacc\tlo\thi')" \
	"prompt.tsv: the header"
sha=$(zstdcat a/iter2/gen.jsonl.zst | jq -r .provenance.prompt_sha256 | sort -u | cut -c1-12)
is "$(awk -F '\t' 'NR > 1 { print $1, $2, $3, $4, $5 }' a/prompt.tsv | tr '\n' ';')" \
	"1 default $sha $gen1 world;2 default $sha $(zstdcat a/iter2/gen.jsonl.zst | wc -l | tr -d ' ') world;" \
	"  a row per iteration: its prompt version, sha256 prefix, items, reviewer"
mlde-prompt score -q -Z a/iter2/review.jsonl.zst | jq -r 'select(.type == "all") | [.n, .correct, .skipped] + ([.acc, .lo, .hi] | map(. * 10000 | round / 10000)) | @tsv' > s2
is "$(awk -F '\t' '$1 == 2 { printf "%d %d %d %g %g %g", $6, $7, $8, $9, $10, $11 }' a/prompt.tsv)" \
	"$(awk -F '\t' '{ printf "%d %d %d %g %g %g", $1, $2, $3, $4, $5, $6 }' s2)" "  and mlde-prompt score's correctness with its interval"
run loop iter2 RUN="$SCRATCH/a" BUDGET=60
like out "^The generation prompt and its correctness by iteration" "the report prints it"
like out "^iter2 +default +$sha +[0-9]+ world +[0-9]+ +[0-9.]+% \[[0-9.]+, [0-9.]+\]$" "  a row per iteration"
run loop "$SCRATCH/h/iter1/review.jsonl.zst" RUN="$SCRATCH/h" REVIEW_SAMPLE=20
is "$status" 0 "REVIEW_SAMPLE=20: the review step alone"
is "$(zstdcat h/iter1/review.jsonl.zst | jq -r .item | sort -u | wc -l | tr -d ' ')" 20 "  judges 20 items"
zstdcat h/iter1/gen.jsonl.zst | jq -r .type | sort -u > h.types
is "$(zstdcat h/iter1/review.jsonl.zst | jq -r .type | sort -u)" "$(cat h.types)" "  every k-th: every type generated is seen"
holds "  REVIEW_SAMPLE is in RUN/knobs" grep -qx 'REVIEW_SAMPLE=20' h/knobs
is "$(find h -name '*.tmp' | wc -l | tr -d ' ')" "0" "  no .tmp file left"
run loop -n iter1 RUN="$SCRATCH/t" REVIEWER=none
unlike out "mlde-prompt" "REVIEWER=none: no review step"
run loop -n iter1 RUN="$SCRATCH/t" REVIEWER=judge JUDGE_FLAGS="--model m --base-url http://127.0.0.1:1/v1"
like out "'iter1 review' +.*/mlde-prompt judge -q --images .*/world --model m --base-url http://127\.0\.0\.1:1/v1 -o " \
	"REVIEWER=judge: mlde-prompt judge with JUDGE_FLAGS"
run loop -n iter1 RUN="$SCRATCH/t" REVIEWER=people
is "$status" 2 "REVIEWER=people: make stops"
like err "REVIEWER=people: world, judge or none" "  naming the choices"
run loop -n iter1 RUN="$SCRATCH/t" GEN_FILTER=some
like err "GEN_FILTER=some: none or accepted" "GEN_FILTER=some: stops, naming the choices"
run loop -n iter1 RUN="$SCRATCH/t" GEN_FILTER=accepted REVIEWER=none
like err "GEN_FILTER=accepted keeps the items the reviewer accepted: it needs REVIEWER=world or judge" \
	"GEN_FILTER=accepted without a reviewer: stops"
# GEN_FILTER=accepted on faulty items: all reviewed, training on the correct
run loop "$SCRATCH/i/iter1/model.safetensors" RUN="$SCRATCH/i" BUDGET=60 GEN_FLAGS="--world-faults all=0.3" GEN_FILTER=accepted
is "$status" 0 "GEN_FILTER=accepted, faults 0.3: iteration 1 trained"
is "$(zstdcat i/iter1/review.jsonl.zst | wc -l | tr -d ' ')" "$(zstdcat i/iter1/gen.jsonl.zst | wc -l | tr -d ' ')" \
	"  every generated item reviewed, not a sample"
is "$(zstdcat i/iter1/gen.accepted.jsonl.zst | jq -r .id | sort | tr '\n' ' ')" \
	"$(zstdcat i/iter1/review.jsonl.zst | jq -r 'select(.verdict == "correct") | .item' | sort | tr '\n' ' ')" \
	"  gen.accepted holds the items judged correct"
is "$(zstdcat i/iter1/gen.accepted.jsonl.zst | jq -r 'select(.provenance.fault) | .id' | wc -l | tr -d ' ')" 0 \
	"  and no faulty one"
holds "  fewer than generated" test "$(zstdcat i/iter1/gen.accepted.jsonl.zst | wc -l)" -lt "$(zstdcat i/iter1/gen.jsonl.zst | wc -l)"
run loop -n iter2 RUN="$SCRATCH/i" BUDGET=60 GEN_FLAGS="--world-faults all=0.3" GEN_FILTER=accepted
like out "'iter2 train' .* $SCRATCH/i/iter1/gen\.accepted\.jsonl\.zst $SCRATCH/i/iter2/gen\.accepted\.jsonl\.zst\)?$" \
	"  iteration 2 trains on each iteration's accepted items"

# the ablation: both strategies from one world and baseline, and the table
SMALL="$TINY BUDGET=60"
run loop ablation SEEDS=1 ABLATION_ITERS=1 ABLATION_DIR="$SCRATCH/abl"
is "$status" 0 "make ablation: status 0"
like out "^test accuracy \(%\), mean over 1 seed$" "  prints the table"
like out "^type +iter +abs +uniform +abs-uniform$" "  with a column per strategy and their difference"
like out "^all +1 +[0-9.]+ +[0-9.]+ +[-+][0-9.]+$" "  and a row for iteration 1 overall"
like out "^Is the difference real\? abs against uniform at iteration 1" "  and the paired comparison"
like out "^all +90 +[0-9.]+ +[0-9.]+ +[-+][0-9.]+  \[ *[-+][0-9.]+, *[-+][0-9.]+\] " "  overall, with its interval"
is "$(awk 'END { print NR - 1 }' abl/ablation-gain.tsv)" "10" "ablation-gain.tsv: all and 9 types"
is "$(od -An -tx1 -N4 abl/ablation.png | tr -d ' ')" "89504e47" "ablation.png is a PNG"
same abl/abs-seed1/iter0/model.safetensors abl/uniform-seed1/iter0/model.safetensors \
	"  uniform starts from the same baseline"
zstdcat abl/abs-seed1/iter1/plan.jsonl.zst | jq -r .type | sort | uniq -c | awk '{print $1}' | sort -n > abs.q
zstdcat abl/uniform-seed1/iter1/plan.jsonl.zst | jq -r .type | sort | uniq -c | awk '{print $1}' | sort -u > uni.q
is "$(tr '\n' ' ' < uni.q)" "6 7 " "  uniform: 60 requests, 6 or 7 a type"
holds "  abs: another split than uniform" not cmp -s abs.q uni.q

done_testing
