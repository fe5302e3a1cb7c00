# examples/llava-vllm.mk - the real loop: LLaVA-1.5 served by vLLM, MMBench
# dev as the benchmark, COCO as the image pool, GPT-4o writing the training
# data, LLaVA's LoRA trainer fine-tuning it (`make iter1
# CONFIG=examples/llava-vllm.mk`).  A recipe to adapt to your machines:
# paths, server addresses, GPUs and budgets are yours to set, here or on the
# command line (`make iter1 CONFIG=examples/llava-vllm.mk VLLM_URL=...`).
#
# Before the first make:
#   - MMBench dev (MMBench_DEV_EN.tsv) at $(MMBENCH_TSV), COCO train2017's
#     images at $(COCO_IMAGES) and its captions_/instances_train2017.json at
#     $(COCO_ANN): the import rules below turn them into items and pool
#     records (mlde-import mmbench, mlde-import coco) in $(DATA)
#   - vLLM serving LLaVA-1.5 with run-time LoRA loading, on a GPU node:
#       VLLM_ALLOW_RUNTIME_LORA_UPDATING=True vllm serve llava-hf/llava-1.5-7b-hf \
#           --enable-lora --max-lora-rank 128 --max-loras 4 --port 8000
#   - OPENAI_API_KEY for GPT-4o (vLLM ignores it unless started with --api-key)
#   - LLaVA (github.com/haotian-liu/LLaVA) cloned and installed for the trainer,
#     LLAVA_DIR in the environment (examples/llava-lora-train.sh)
RUN = runs/llava
DATA = data
MMBENCH_TSV = $(DATA)/MMBench_DEV_EN.tsv
COCO_IMAGES = $(DATA)/coco/train2017
COCO_ANN = $(DATA)/coco/annotations
# the servers: vLLM (LLaVA and its adapters) and the generator's
VLLM_URL = http://localhost:8000/v1
GEN_URL = https://api.openai.com/v1

# The benchmark: MMBench dev drives the loop (val) and is reported (test):
# it has no held-out split of its own, so the report's test rows are the
# same items (split your own test set off for an unbiased figure).  Its
# images are written under $(DATA)/images, the root of every image path
# (the pool's are absolute).
VAL_ITEMS = $(DATA)/mmbench-dev.jsonl.zst
TEST_ITEMS = $(DATA)/mmbench-dev.jsonl.zst
POOL = $(DATA)/coco-pool.jsonl.zst
IMAGES = $(DATA)/images
# MMBench's 20 leaf abilities (its category column) are the types
TYPES = image_style image_scene image_emotion image_quality image_topic \
	ocr celebrity_recognition attribute_recognition object_localization \
	spatial_relationship attribute_comparison action_recognition \
	physical_property_reasoning function_reasoning identity_reasoning \
	social_relation physical_relation nature_relation future_prediction \
	structuralized_imagetext_understanding

# No base set: iteration 0 is LLaVA-1.5 as vLLM serves it.  MODEL0 is
# LLaVA's own weights, on which every iteration's LoRA is trained
# (huggingface-cli download liuhaotian/llava-v1.5-7b --local-dir
# data/llava-v1.5-7b)
BASE_ITEMS =
MODEL0 = $(DATA)/llava-v1.5-7b
export LLAVA_BASE = $(abspath $(MODEL0))
SERVED_MODEL0 = llava-hf/llava-1.5-7b-hf
SERVED_PREFIX = llava-mlde-iter

# Evaluation through vLLM.  The reply cache is the run's own: a served name
# (llava-mlde-iter1) means another adapter in another run
EVAL_BACKEND = http
EVAL_FLAGS = --base-url $(VLLM_URL) -j 32 --cache $(RUN)/cache
# Similar-image retrieval needs an image embedder: with a multimodal
# embedding model served by vLLM (VLM2Vec, DSE), set EMBED = http and
# EMBED_FLAGS = --embed-url URL --embed-model NAME.  Without one, random
# pool images
EMBED = none
RETRIEVAL = random

# Generation by GPT-4o, explained MMBench's abilities
BACKEND = http
BUDGET = 2000
GEN_FLAGS = --model gpt-4o --base-url $(GEN_URL) \
	-j 16 --rpm 500 --tpm 300000 --cache $(RUN)/cache

# Training: LLaVA's LoRA trainer on the exported conversation JSON,
# MLLM-DataEngine v2's learning rate and one epoch (r and alpha are in the
# script).  On a Slurm cluster, the trainer on a GPU node of its own:
#   TRAIN_LAUNCHER = srun -N1 --gres=gpu:8 --exclusive
TRAIN_CMD = sh examples/llava-lora-train.sh
EXPORT = $(BINDIR)/mlde-export llava --image-root $(abspath $(IMAGES))
EXPORT_FILE = train.json
CHECKPOINT = lora
ITER_EPOCHS = 1
ITER_LR = 1e-4

# Serving: vLLM loads iteration N's adapter as llava-mlde-iterN
# (POST /v1/load_lora_adapter; the server needs
# VLLM_ALLOW_RUNTIME_LORA_UPDATING=True).  The adapter's path must be
# readable by the server: a shared file system, or the same node
SERVE_CMD = curl -fsS -X POST $(VLLM_URL)/load_lora_adapter -H 'Content-Type: application/json' \
	-d '{"lora_name": "$(SERVE_NAME)", "lora_path": "$(SERVE_CHECKPOINT)"}'

# The imports (mlde-import): once, before the loop (for the files named
# here; not for others given on the command line)
ifeq ($(origin VAL_ITEMS),file)
$(VAL_ITEMS): $(MMBENCH_TSV) $(BINDIR)/mlde-import
	$(BINDIR)/mlde-import mmbench --images $(IMAGES) -o $@ $<
endif
ifeq ($(origin POOL),file)
$(POOL): $(COCO_ANN)/captions_train2017.json $(COCO_ANN)/instances_train2017.json $(BINDIR)/mlde-import
	$(BINDIR)/mlde-import coco --images $(abspath $(COCO_IMAGES)) \
		--captions $(COCO_ANN)/captions_train2017.json \
		--instances $(COCO_ANN)/instances_train2017.json -o $@
endif
