#!/bin/sh
# examples/llava-lora-train.sh TRAIN_FILE PREV OUT - the loop's TRAIN_CMD for
# LLaVA-1.5 (examples/llava-vllm.mk): LoRA fine-tuning with LLaVA's own
# trainer (llava/train/train_mem.py of github.com/haotian-liu/LLaVA, run by
# DeepSpeed) on TRAIN_FILE, the LLaVA conversation JSON mlde-export llava
# wrote (the base set, if any, and every iteration's generated items so
# far), writing the adapter into the directory OUT.
#
# A recipe to adapt, not a finished tool: your GPUs, paths and batch sizes
# differ.  The hyperparameters are MLLM-DataEngine v2's: LoRA r 128, alpha
# 256, learning rate 1e-4, one epoch.  Each iteration trains a fresh LoRA
# on LLAVA_BASE over the cumulative training file (LLaVA's trainer cannot
# start from another run's adapter), so PREV is not used.  The projector is
# kept frozen, so everything learned is in the LoRA adapter, the part vLLM
# loads at run time (examples/llava-vllm.mk's serve step).
#
# The environment (with the defaults):
#   LLAVA_DIR   a clone of LLaVA with its Python environment active (./LLaVA)
#   LLAVA_BASE  the model the LoRA is trained on (liuhaotian/llava-v1.5-7b)
#   GPUS        GPUs for DeepSpeed on this node (8)
#   BATCH       per-GPU batch (16); GRAD_ACC gradient accumulation (1):
#               16 x 8 x 1 = 128, LLaVA-1.5's global batch
#   DS_CONFIG   DeepSpeed's configuration (LLAVA_DIR/scripts/zero3.json)
#   LLAVA_CONVERT  a command run as `LLAVA_CONVERT OUT` after training, to
#               rename the adapter's modules the way your vLLM version names
#               LLaVA-1.5's (check: the serve step fails when vLLM cannot
#               load it); none by default
# The loop sets MLDE_LR and MLDE_EPOCHS from ITER_LR and ITER_EPOCHS;
# examples/llava-vllm.mk sets those to 1e-4 and 1.
set -eu
[ "$#" -eq 3 ] || { echo "usage: $0 TRAIN_FILE PREV OUT" >&2; exit 2; }
train_file=$1 out=$3
: "${LLAVA_DIR:=./LLaVA}" "${LLAVA_BASE:=liuhaotian/llava-v1.5-7b}" "${GPUS:=8}"
: "${BATCH:=16}" "${GRAD_ACC:=1}"
[ -f "$LLAVA_DIR/llava/train/train_mem.py" ] ||
	{ echo "$0: $LLAVA_DIR/llava/train/train_mem.py: not found (set LLAVA_DIR)" >&2; exit 1; }
LLAVA_DIR=$(cd "$LLAVA_DIR" && pwd)
: "${DS_CONFIG:=$LLAVA_DIR/scripts/zero3.json}"
lr=${MLDE_LR:-1e-4}
epochs=${MLDE_EPOCHS:-1}
seed=${MLDE_SEED:-1}

[ -f "$train_file" ] || { echo "$0: $train_file: no such file" >&2; exit 1; }
mkdir -p "$out"
# image paths in the training file are absolute (mlde-export --image-root),
# so the image folder is /
cd "$LLAVA_DIR"
deepspeed --num_gpus "$GPUS" llava/train/train_mem.py \
	--deepspeed "$DS_CONFIG" \
	--lora_enable True --lora_r 128 --lora_alpha 256 --lora_dropout 0.05 \
	--model_name_or_path "$LLAVA_BASE" \
	--version v1 \
	--data_path "$train_file" \
	--image_folder / \
	--vision_tower openai/clip-vit-large-patch14-336 \
	--mm_projector_type mlp2x_gelu \
	--freeze_mm_mlp_adapter True \
	--mm_vision_select_layer -2 \
	--mm_use_im_start_end False \
	--mm_use_im_patch_token False \
	--image_aspect_ratio pad \
	--group_by_modality_length True \
	--bf16 True \
	--output_dir "$out" \
	--num_train_epochs "$epochs" \
	--per_device_train_batch_size "$BATCH" \
	--gradient_accumulation_steps "$GRAD_ACC" \
	--save_strategy no \
	--learning_rate "$lr" \
	--weight_decay 0. \
	--warmup_ratio 0.03 \
	--lr_scheduler_type cosine \
	--logging_steps 10 \
	--tf32 True \
	--model_max_length 2048 \
	--gradient_checkpointing True \
	--dataloader_num_workers 4 \
	--lazy_preprocess True \
	--seed "$seed" \
	--report_to none
if [ -n "${LLAVA_CONVERT:-}" ]; then
	$LLAVA_CONVERT "$out"
fi
# the loop keeps OUT only if it holds an adapter
[ -f "$out/adapter_config.json" ] || { echo "$0: $out: no adapter_config.json written" >&2; exit 1; }
