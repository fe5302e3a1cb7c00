# mk/loop.mk - the closed loop as file targets.  Iteration N:
#
#   iterN-1/model ─┐
#   val items ─────┴─> iterN-1/val.eval ─> iterN/weak ─┐
#                      (bad cases, embedded) ──────────┼─> iterN/plan ─> iterN/gen ─┐
#   pool ─> iterN/pool (embedded by iterN-1/model) ────┘                             │
#   base + iter1..N-1/gen ─────────────────────────────────────────────────────────┴─> iterN/model
#
# iter0/model is the baseline trained on the base set.  Every model is
# evaluated on val (which feeds the next iteration) and test (held out,
# for the report only).  Every recipe writes $@.tmp (the programs' -o) and
# renames; .DELETE_ON_ERROR removes a half-made target (but a failed gen's
# rejects).

W := $(RUN)/world
empty :=
space := $(empty) $(empty)
comma := ,
WORLD_SETS := $(W)/pool.jsonl.zst $(W)/base.jsonl.zst $(W)/val.jsonl.zst $(W)/test.jsonl.zst

# timed NAME, COMMAND: run COMMAND, adding its time to times.tsv and to
# the record of every run with these knobs, beside the run directory (for
# the plan mk/plan.sh prints at the start of the next such run)
timed = sh mk/timed.sh $(RUN)/times.tsv $(TIMES_RECORD) '$(1)' $(2)

# The long steps (train, gen) draw their progress on a terminal; the loop
# quiets them (-q) only when stderr is not one.  The others stay quiet.
LONG_Q := $(if $(shell [ -t 2 ] && echo tty),,-q)

ITERS_MAX ?= 20
ITER_DIRS := $(foreach n,$(shell seq 0 $(ITERS_MAX)),$(RUN)/iter$(n))
$(RUN) $(ITER_DIRS):
	@mkdir -p $@

# Make sees files, not variables: a run directory made with one setting
# would be finished with another without a word.  So $(RUN)/knobs records
# every knob the files depend on when the run starts, and a later make of
# that run with other values stops before it builds anything.
LOOP_KNOBS := SEED THREADS WORLD_IMAGES WORLD_BASE WORLD_MIX WORLD_VAL WORLD_TEST \
	BASE_EPOCHS ITER_EPOCHS LR ITER_LR BATCH WEIGHT BUDGET STRATEGY TEMPERATURE \
	EXAMPLES TOPK RETRIEVAL BACKEND GEN_FLAGS TYPES
knobs_now := $(foreach k,$(LOOP_KNOBS),$(k)=$(subst $(space),$(comma),$(strip $($(k)))))
ifneq ($(filter iter% $(RUN)/%,$(MAKECMDGOALS)),)
knobs_then := $(strip $(shell cat $(RUN)/knobs 2>/dev/null))
ifneq ($(knobs_then),)
ifneq ($(knobs_then),$(strip $(knobs_now)))
$(error $(RUN) was made with $(filter-out $(knobs_now),$(knobs_then)), not \
	$(filter-out $(knobs_then),$(knobs_now)) (see $(RUN)/knobs): use another RUN=DIR, \
	or remove $(RUN))
endif
endif
endif

KNOBS_ID := $(shell printf '%s\n' $(knobs_now) | cksum | cut -d' ' -f1)
TIMES_RECORD = $(dir $(RUN)).times/$(KNOBS_ID).tsv

$(RUN)/knobs: | $(RUN)
	@printf '%s\n' $(knobs_now) > $@.tmp && mv $@.tmp $@

# The world is a directory: made beside its place and renamed as a whole.
$(WORLD_SETS) &: $(BINDIR)/mlde-world | $(RUN)/knobs
	@rm -rf $(W).tmp
	@$(call timed,world,$(BINDIR)/mlde-world -q --seed $(SEED) --out $(W).tmp \
		--images $(WORLD_IMAGES) --base $(WORLD_BASE) --mix $(WORLD_MIX) \
		--val $(WORLD_VAL) --test $(WORLD_TEST))
	@rm -rf $(W) && mv $(W).tmp $(W)

TRAIN = $(BINDIR)/mlde-train $(LONG_Q) --threads $(THREADS) --seed $(SEED) --batch $(BATCH) \
	--images $(W)
EVAL = $(BINDIR)/mlde-eval -q --threads $(THREADS) --images $(W)

$(RUN)/iter0/model.safetensors: $(W)/base.jsonl.zst $(BINDIR)/mlde-train | $(RUN)/iter0
	@$(call timed,iter0 train,$(TRAIN) --epochs $(BASE_EPOCHS) --lr $(LR) -o $@ $<)

# Every model on val (embedded: its bad cases lead the next plan) and test.
$(RUN)/iter%/val.eval.jsonl.zst: $(RUN)/iter%/model.safetensors $(W)/val.jsonl.zst $(BINDIR)/mlde-eval
	@$(call timed,iter$* eval val,$(EVAL) --embed -m $< -o $@ $(W)/val.jsonl.zst)
$(RUN)/iter%/test.eval.jsonl.zst: $(RUN)/iter%/model.safetensors $(W)/test.jsonl.zst $(BINDIR)/mlde-eval
	@$(call timed,iter$* eval test,$(EVAL) -m $< -o $@ $(W)/test.jsonl.zst)

prev = $(shell echo $$(($(1) - 1)))
# a seed of its own for each iteration's sampling and generation
iter_seed = $(shell echo $$(($(SEED) * 1000 + $(1))))

# ITERATION N: the steps of iteration N >= 1, from model N-1 to model N.
define ITERATION
$(RUN)/iter$(1)/weak.jsonl.zst: $(RUN)/iter$(call prev,$(1))/val.eval.jsonl.zst $(BINDIR)/mlde-weak | $(RUN)/iter$(1)
	@$$(call timed,iter$(1) weak,$(BINDIR)/mlde-weak -q --weight $(WEIGHT) \
		$$(addprefix --type ,$(TYPES)) -o $$@ $$<)

$(RUN)/iter$(1)/pool.jsonl.zst: $(RUN)/iter$(call prev,$(1))/model.safetensors $(W)/pool.jsonl.zst $(BINDIR)/mlde-eval | $(RUN)/iter$(1)
	@$$(call timed,iter$(1) embed pool,$(EVAL) --embed -m $$< -o $$@ $(W)/pool.jsonl.zst)

$(RUN)/iter$(1)/plan.jsonl.zst: $(RUN)/iter$(1)/weak.jsonl.zst $(RUN)/iter$(1)/pool.jsonl.zst \
		$(RUN)/iter$(call prev,$(1))/val.eval.jsonl.zst $(BINDIR)/mlde-sample
	@$$(call timed,iter$(1) sample,$(BINDIR)/mlde-sample -q --threads $(THREADS) \
		--weak $$< --pool $(RUN)/iter$(1)/pool.jsonl.zst --budget $(BUDGET) \
		--strategy $(STRATEGY) --temperature $(TEMPERATURE) --examples $(EXAMPLES) \
		--topk $(TOPK) --retrieval $(RETRIEVAL) --seed $(call iter_seed,$(1)) -o $$@ \
		$(RUN)/iter$(call prev,$(1))/val.eval.jsonl.zst)

# gen and its rejects are made together.  A gen that fails with requests
# failed for good (exit 4) has written its rejects, the only record of why:
# .PRECIOUS keeps them from .DELETE_ON_ERROR (gen goes, so make runs the
# step again)
.PRECIOUS: $(RUN)/iter$(1)/rejects.jsonl.zst
$(RUN)/iter$(1)/gen.jsonl.zst $(RUN)/iter$(1)/rejects.jsonl.zst &: $(RUN)/iter$(1)/plan.jsonl.zst $(BINDIR)/mlde-gen
	@$$(call timed,iter$(1) gen,$(BINDIR)/mlde-gen $(LONG_Q) --backend $(BACKEND) --seed $(call iter_seed,$(1)) \
		$(GEN_FLAGS) --rejects $(RUN)/iter$(1)/rejects.jsonl.zst \
		-o $(RUN)/iter$(1)/gen.jsonl.zst $$<)

# cumulative: the base set and every iteration's generated items so far
$(RUN)/iter$(1)/model.safetensors: $(RUN)/iter$(call prev,$(1))/model.safetensors \
		$(W)/base.jsonl.zst $(foreach i,$(shell seq 1 $(1)),$(RUN)/iter$(i)/gen.jsonl.zst) $(BINDIR)/mlde-train
	@$$(call timed,iter$(1) train,$(TRAIN) --init $$< --epochs $(ITER_EPOCHS) --lr $(ITER_LR) \
		-o $$@ $$(filter %.jsonl.zst,$$^))
endef

EVALS_UPTO = $(foreach i,$(shell seq 0 $(1)),$(RUN)/iter$(i)/val.eval.jsonl.zst \
	$(RUN)/iter$(i)/test.eval.jsonl.zst)

# iterN: model N evaluated on val and test, then the report of 0..N.  A
# make of its own makes the files, after the plan of what it will make
# (from make -n of the same files, read by mk/plan.sh).
define ITER_GOAL
.PHONY: iter$(1) iter$(1)-files
iter$(1):
	@$$(MAKE) --no-print-directory -n iter$(1)-files 2> /dev/null | \
		sh mk/plan.sh iter$(1) $(RUN) $(TIMES_RECORD)
	@$$(MAKE) --no-print-directory iter$(1)-files
	@RUN=$(RUN) MLDE_BIN=$(abspath $(BINDIR)) sh mk/report.sh $(1)
iter$(1)-files: $(call EVALS_UPTO,$(1))
	@:
endef

$(foreach n,$(shell seq 1 $(ITERS_MAX)),$(eval $(call ITERATION,$(n))))
$(foreach n,$(shell seq 0 $(ITERS_MAX)),$(eval $(call ITER_GOAL,$(n))))
