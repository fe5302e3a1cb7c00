#!/bin/sh
# The real loop's configuration (examples/llava-vllm.mk) end to end on a
# small embedded world, against stand-ins on 127.0.0.1: evaluation through
# a served model that answers with the builtin model (tests/stand-in-model.pl,
# which loads each iteration's checkpoint when the serve step posts it to
# /v1/load_lora_adapter, as vLLM does), generation through a generator that
# answers each request with the world backend's reply to the same plan
# (tests/stand-in-gen.pl), training through the external-trainer path (a
# TRAIN_CMD that calls mlde-train on the exported items), serving through
# the example's own SERVE_CMD (curl).  Its report must be the embedded run's,
# type by type.  Only the data, the trainer and the embedder differ from the
# example: MMBench and COCO are the world's val/test and pool, the base set
# is the world's (iteration 0 trained, then served as iter0), and the
# builtin model embeds (EMBED=model) as in the embedded run.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$TESTS_DIR/.." && pwd)
unset MAKEFLAGS MAKELEVEL MFLAGS
KEY=sk-mlde-real-loop-5d1c9a07e3
SERVER_PIDS=
trap 'for p in $SERVER_PIDS; do kill "$p" 2>/dev/null || :; done; [ -n "${KEEP:-}" ] || rm -rf "$SCRATCH"' EXIT
command -v curl > /dev/null || { skip "the real loop" "no curl"; done_testing; exit 0; }
TINY="WORLD_IMAGES=120 WORLD_BASE=300 WORLD_VAL=60 WORLD_TEST=60 BASE_EPOCHS=2 ITER_EPOCHS=1 THREADS=1 BUDGET=40"
loop() { make -s -C "$ROOT" ${MLDE_MAKEVARS:-} $TINY "$@"; }

# the embedded run: the reference, and the world the real run reads
run loop iter2 RUN="$SCRATCH/emb"
is "$status" 0 "embedded: make iter2"
W=$SCRATCH/emb/world

# start NAME SCRIPT ARGS...: a stand-in, its port in NAME.port; sets PORT
start() {
	name=$1 script=$2
	shift 2
	perl "$TESTS_DIR/$script" --port-file "$name.port" --log "$name.log" "$@" &
	SERVER_PIDS="$SERVER_PIDS $!"
	i=0
	while [ ! -s "$name.port" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	PORT=$(cat "$name.port")
}
R=$SCRATCH/real
# the served model: until a checkpoint is loaded it knows only the base
# model's name (whose file it never needs)
start model stand-in-model.pl --model "$SCRATCH/none.safetensors" --name llava-hf/llava-1.5-7b-hf
MODEL_URL=http://127.0.0.1:$PORT/v1
start gen stand-in-gen.pl --plan "$R/iter1/plan.jsonl.zst=1001" --plan "$R/iter2/plan.jsonl.zst=1002"
GEN_URL=http://127.0.0.1:$PORT/v1

# the trainer: mlde-train on the exported items, as the builtin step would
cat > train.sh <<'SH'
#!/bin/sh
# train.sh TRAIN_FILE PREV OUT
set -eu
echo "$MLDE_ITER $*" >> "${TRAIN_LOG:?}"
exec "$MLDE_BIN/mlde-train" -q --threads "$MLDE_THREADS" --seed "$MLDE_SEED" --batch "$MLDE_BATCH" \
	--images "$MLDE_IMAGES" ${2:+--init "$2"} --epochs "$MLDE_EPOCHS" --lr "$MLDE_LR" -o "$3" "$1"
SH
chmod +x train.sh
export TRAIN_LOG=$SCRATCH/train.log OPENAI_API_KEY=$KEY
REAL="CONFIG=examples/llava-vllm.mk RUN=$R VLLM_URL=$MODEL_URL GEN_URL=$GEN_URL
	VAL_ITEMS=$W/val.jsonl.zst TEST_ITEMS=$W/test.jsonl.zst POOL=$W/pool.jsonl.zst
	BASE_ITEMS=$W/base.jsonl.zst MODEL0= IMAGES=$W CHECKPOINT=model.safetensors
	ITER_EPOCHS=1 ITER_LR=0.002 BUDGET=40 EMBED=model RETRIEVAL=similar
	TRAIN_CMD=$SCRATCH/train.sh EXPORT=cat EXPORT_FILE=train.jsonl.zst"
run loop iter2 $REAL GEN_FLAGS="--model gpt-4o --base-url $GEN_URL -j 8 --cache $R/cache" \
	TYPES="scene_understanding instance_identity instance_attributes instance_location instances_counting spatial_relation instance_interaction visual_reasoning text_understanding"
is "$status" 0 "real: make iter2 CONFIG=examples/llava-vllm.mk against the stand-ins"
[ "$status" -eq 0 ] || diag "$(tail -20 err)"
like err "^iter1 serve +[0-9.]+ s$" "  with a serve step"
like err "^iter2 export +[0-9.]+ s$" "  and an export for the trainer"

# the report: the embedded run's, type by type
same emb/report.tsv real/report.tsv "report.tsv: the embedded run's, every iteration, split and type"
same emb/gain.tsv real/gain.tsv "gain.tsv: the same gain"
is "$(awk -F '\t' '$1 == 2 && $2 == "test" && $3 != "all"' real/report.tsv | wc -l | tr -d ' ')" 9 \
	"  (nine types at iteration 2)"
# plan FILE: a plan's records, each example with only what the eval record
# says of the item and the answer (a served model's record tells more)
plan() { zstdcat "$1" | jq -c '.examples |= map({id, image, question, options, answer, pred, correct})'; }
for i in 1 2; do
	plan emb/iter$i/plan.jsonl.zst > emb$i.plan
	plan real/iter$i/plan.jsonl.zst > real$i.plan
	same emb$i.plan real$i.plan "iter$i: the same plan (requests, pool images, examples, similarity)"
	zstdcat emb/iter$i/gen.jsonl.zst | jq -c '{image, question, options, answer, type}' > emb$i.items
	zstdcat real/iter$i/gen.jsonl.zst | jq -c '{image, question, options, answer, type}' > real$i.items
	same emb$i.items real$i.items "iter$i: the same generated items, from the generator's server"
done
is "$(zstdcat real/iter1/gen.jsonl.zst | jq -r .provenance.backend | sort -u)" http "  (which they came from)"

# each step went the real way
is "$(cut -d' ' -f1 train.log | tr '\n' ' ')" "0 1 2 " "the trainer ran for iterations 0, 1, 2"
is "$(sed -n 3p train.log | cut -d' ' -f2-)" \
	"$R/iter2/train.jsonl.zst $R/iter1/model.safetensors $R/iter2/model.safetensors.tmp" \
	"  given the training file, the previous checkpoint and the output"
is "$(sed -n 1p train.log | cut -d' ' -f3)" "" "  (iteration 0: no previous one)"
is "$(zstdcat real/iter2/train.jsonl.zst | wc -l | tr -d ' ')" \
	"$(zstdcat "$W/base.jsonl.zst" emb/iter1/gen.jsonl.zst emb/iter2/gen.jsonl.zst | wc -l | tr -d ' ')" \
	"  the training file: base set and both iterations' items"
is "$(sed -n 's/.* lora-loaded name=//p' model.log | tr '\n' ' ')" "llava-mlde-iter0 llava-mlde-iter1 llava-mlde-iter2 " \
	"the serve step loaded each checkpoint into the served model"
run curl -sS -o lora.json -w '%{http_code}' -H 'Content-Type: application/json' \
	-d "{\"lora_name\": \"llava-mlde-iter1\", \"lora_path\": \"$R/iter1/model.safetensors\"}" \
	"$MODEL_URL/load_lora_adapter"
is "$(cat out)" 400 "  a name loaded again: 400, as vLLM answers"
like lora.json "has already been loaded" "  saying so"
is "$(cat real/iter1/served)" "$(printf 'llava-mlde-iter1\t%s' "$R/iter1/model.safetensors")" \
	"  recorded in iterN/served"
is "$(awk '$3 == "ok"' model.log | wc -l | tr -d ' ')" 360 "the served model answered every val and test item of 3 models"
is "$(zstdcat real/iter1/test.eval.jsonl.zst | jq -r .model | sort -u)" llava-mlde-iter1 \
	"  the evaluation of iteration 1 named its served model"
is "$(grep -c ' ok ' gen.log)" "$(($(zstdcat real/iter1/plan.jsonl.zst real/iter2/plan.jsonl.zst | wc -l)))" \
	"the generator's server answered every plan"
holds "the run's knobs record the trainer" grep -qx "TRAIN_CMD=$SCRATCH/train.sh" real/knobs
holds "  and the serve command" grep -q '^SERVE_CMD=curl,' real/knobs
for f in real/knobs real/iter2/test.eval.jsonl.zst real/iter2/gen.jsonl.zst; do
	unlike "$f" "${KEY#sk-}" "the key is not in $f"
done
holds "the key is not in the cache" not grep -rqF "${KEY#sk-}" real/cache

# a served name the server does not know fails the evaluation, and make
rm real/iter2/test.eval.jsonl.zst
run loop "$R/iter2/test.eval.jsonl.zst" $REAL GEN_FLAGS="--model gpt-4o --base-url $GEN_URL -j 8 --cache $R/cache" \
	TYPES="scene_understanding instance_identity instance_attributes instance_location instances_counting spatial_relation instance_interaction visual_reasoning text_understanding" \
	SERVED_PREFIX=nobody
is "$status" 2 "a knob changed for a made run: make stops"

# a trainer that exits 0 without writing its output fails the step
printf '#!/bin/sh\nexit 0\n' > lazy.sh
chmod +x lazy.sh
run loop "$SCRATCH/lazy/iter0/model.safetensors" $REAL RUN="$SCRATCH/lazy" TRAIN_CMD="$SCRATCH/lazy.sh" \
	GEN_FLAGS=x TYPES=x
is "$status" 2 "a trainer that writes nothing: make fails"
like err "iter0 train: TRAIN_CMD exited 0 but wrote no $SCRATCH/lazy/iter0/model.safetensors.tmp" "  saying so"
holds "  leaving no checkpoint" not test -e lazy/iter0/model.safetensors
done_testing
