# mk/loop.mk - the closed loop as file targets.  Iteration N:
#
#   iterN-1/model ─┐
#   val items ─────┴─> iterN-1/val.eval ─> iterN/weak ─┐
#                      (bad cases, embedded) ──────────┼─> iterN/plan ─> iterN/gen ─┐
#   pool ─> iterN/pool (embedded by iterN-1/model) ────┘                             │
#   base + iter1..N-1/gen ─────────────────────────────────────────────────────────┴─> iterN/model
#
# iterN/gen is also judged by a reviewer (REVIEWER) into iterN/review, the
# correctness of the prompt version that made it; with GEN_FILTER=accepted
# iterN/model trains on iterN/gen.accepted, the items the reviewer accepted,
# in place of iterN/gen.
#
# iter0/model is the baseline trained on the base set.  Every model is
# evaluated on val (which feeds the next iteration) and test (held out,
# for the report only).  Every recipe writes $@.tmp (the programs' -o) and
# renames; .DELETE_ON_ERROR removes a half-made target (but a failed gen's
# rejects).  What each step reads and runs is a knob of mk/config.mk ("The
# real loop"): the defaults are the embedded world and the builtin model;
# with an external trainer iterN/EXPORT_FILE is the training file, and with
# a serve command iterN/served says that model N answers as its name.

W := $(RUN)/world
empty :=
space := $(empty) $(empty)
comma := ,
# what SERVE_CMD sees outside its step (RUN/knobs records it so); each
# serve step sets its own
SERVE_ITER = N
SERVE_NAME = $(SERVED_PREFIX)N
SERVE_CHECKPOINT = $(abspath $(RUN))/iterN/$(CHECKPOINT)
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
LOOP_KNOBS += $(REAL_KNOBS_SET)
# REPLAY only when set, so a run without it has the knobs file it had before
LOOP_KNOBS += $(if $(strip $(REPLAY)),REPLAY)
LOOP_KNOBS += $(if $(strip $(FREEZE_STEM)),FREEZE_STEM)
knobs_now := $(foreach k,$(LOOP_KNOBS),$(k)=$(subst $(space),$(comma),$(strip $($(k)))))
# each word of knobs_now as one shell word (command knobs hold quotes)
knobs_quoted := $(foreach w,$(knobs_now),'$(subst ','\'',$(w))')
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

KNOBS_ID := $(shell printf '%s\n' $(knobs_quoted) | cksum | cut -d' ' -f1)
TIMES_RECORD = $(dir $(RUN)).times/$(KNOBS_ID).tsv

$(RUN)/knobs: | $(RUN)
	@printf '%s\n' $(knobs_quoted) > $@.tmp && mv $@.tmp $@

# The world is a directory: made beside its place and renamed as a whole.
$(WORLD_SETS) &: $(BINDIR)/mlde-world | $(RUN)/knobs
	@rm -rf $(W).tmp
	@$(call timed,world,$(BINDIR)/mlde-world -q --threads $(THREADS) --seed $(SEED) --out $(W).tmp \
		--images $(WORLD_IMAGES) --base $(WORLD_BASE) --mix $(WORLD_MIX) \
		--val $(WORLD_VAL) --test $(WORLD_TEST))
	@rm -rf $(W) && mv $(W).tmp $(W)

# ---- what each step runs (mk/config.mk, "The real loop") ----
ckpt = $(RUN)/iter$(1)/$(CHECKPOINT)
# what iteration N trains on of each iteration's generated items: all of
# them, or (GEN_FILTER=accepted) those the reviewer accepted
gen_kept = $(RUN)/iter$(1)/$(if $(filter accepted,$(GEN_FILTER)),gen.accepted,gen).jsonl.zst
gens_upto = $(foreach i,$(shell seq 1 $(1)),$(call gen_kept,$(i)))
reviewing := $(filter world judge,$(REVIEWER))
no_base := $(if $(strip $(BASE_ITEMS)),,yes)
http_eval := $(filter http,$(EVAL_BACKEND))
# the name iteration N's model answers as (http)
served_name = $(if $(and $(filter 0,$(1)),$(no_base)),$(SERVED_MODEL0),$(SERVED_PREFIX)$(1))
# whether the loop serves iteration N's model (iteration 0 without a base
# set is the model the server started with)
serving = $(and $(strip $(SERVE_CMD)),$(if $(and $(filter 0,$(1)),$(no_base)),,yes))
# what the evaluation of iteration N's model waits for
eval_needs = $(if $(http_eval),,$(call ckpt,$(1))) $(if $(call serving,$(1)),$(RUN)/iter$(1)/served,$(if \
	$(http_eval),$(call ckpt,$(1))))

ifneq ($(filter iter% $(RUN)/%,$(MAKECMDGOALS)),)
ifeq ($(filter builtin http,$(EVAL_BACKEND)),)
$(error EVAL_BACKEND=$(EVAL_BACKEND): builtin or http)
endif
ifeq ($(filter model http none,$(EMBED)),)
$(error EMBED=$(EMBED): model, http or none)
endif
ifeq ($(EMBED)$(http_eval),http)
$(error EMBED=http embeds through the evaluation's server: it needs EVAL_BACKEND=http)
endif
ifeq ($(no_base)$(strip $(MODEL0)),yes)
$(error BASE_ITEMS is empty: MODEL0 must name iteration 0's checkpoint)
endif
ifeq ($(filter world judge none,$(REVIEWER)),)
$(error REVIEWER=$(REVIEWER): world, judge or none)
endif
ifeq ($(filter none accepted,$(GEN_FILTER)),)
$(error GEN_FILTER=$(GEN_FILTER): none or accepted)
endif
ifeq ($(GEN_FILTER)$(reviewing),accepted)
$(error GEN_FILTER=accepted keeps the items the reviewer accepted: it needs REVIEWER=world or judge)
endif
endif

TRAIN = $(TRAIN_LAUNCHER) $(BINDIR)/mlde-train $(LONG_Q) --threads $(THREADS) --seed $(SEED) --batch $(BATCH) \
	--images $(IMAGES)
EVAL = $(EVAL_LAUNCHER) $(BINDIR)/mlde-eval -q --threads $(THREADS) --images $(IMAGES)
EVAL_HTTP = $(EVAL_LAUNCHER) $(BINDIR)/mlde-eval -q --backend http --images $(IMAGES) $(EVAL_FLAGS)

# Iteration 0: trained on the base set, or MODEL0 as it is.
ifeq ($(no_base),yes)
$(call ckpt,0): | $(RUN)/iter0 $(RUN)/knobs
	@test -e $(MODEL0) || { echo "mk/loop.mk: MODEL0=$(MODEL0): no such file or directory" >&2; exit 1; }
	@ln -sfn $(abspath $(MODEL0)) $@
else ifeq ($(strip $(TRAIN_CMD)),)
$(call ckpt,0): $(BASE_ITEMS) $(BINDIR)/mlde-train | $(RUN)/iter0 $(RUN)/knobs
	@$(call timed,iter0 train,$(TRAIN) --epochs $(BASE_EPOCHS) --lr $(LR) -o $@ $(BASE_ITEMS))
endif

# TRAIN_EXTERNAL N, PREV, EPOCHS, LR: iteration N's training file (the base
# set and the generated items so far, exported) and its checkpoint, made by
# TRAIN_CMD; OUT must exist when it exits 0.  (User knobs are expanded in
# the recipe, $$(...), as they may hold commas.)
define TRAIN_EXTERNAL
$(RUN)/iter$(1)/$(EXPORT_FILE): $(BASE_ITEMS) $(call gens_upto,$(1)) | $(RUN)/iter$(1) $(RUN)/knobs
	@$$(call timed,iter$(1) export,$$(EXPORT) $(BASE_ITEMS) $(call gens_upto,$(1))) > $$@.tmp || \
		{ rm -f $$@.tmp; exit 1; }
	@mv $$@.tmp $$@

$(call ckpt,$(1)): $(2) $(RUN)/iter$(1)/$(EXPORT_FILE) | $(RUN)/knobs
	@rm -rf $$@.tmp
	@$$(call timed,iter$(1) train,env MLDE_ITER=$(1) MLDE_EPOCHS=$(3) MLDE_LR=$(4) MLDE_SEED=$(SEED) \
		MLDE_BATCH=$(BATCH) MLDE_THREADS=$(THREADS) MLDE_IMAGES=$(abspath $(IMAGES)) \
		MLDE_BIN=$(abspath $(BINDIR)) $$(TRAIN_LAUNCHER) $$(TRAIN_CMD) \
		$(abspath $(RUN)/iter$(1)/$(EXPORT_FILE)) '$(if $(2),$(abspath $(2)))' $$(abspath $$@.tmp))
	@test -e $$@.tmp || { echo "mk/loop.mk: iter$(1) train: TRAIN_CMD exited 0 but wrote no $$@.tmp" >&2; \
		exit 1; }
	@rm -rf $$@ && mv $$@.tmp $$@
endef

# SERVE N: iteration N's checkpoint made to answer as its name, by SERVE_CMD
# (with SERVE_ITER, SERVE_NAME and SERVE_CHECKPOINT set for it)
define SERVE
$(RUN)/iter$(1)/served: SERVE_ITER = $(1)
$(RUN)/iter$(1)/served: SERVE_NAME = $(call served_name,$(1))
$(RUN)/iter$(1)/served: SERVE_CHECKPOINT = $(abspath $(call ckpt,$(1)))
$(RUN)/iter$(1)/served: $(call ckpt,$(1)) | $(RUN)/knobs
	@$$(call timed,iter$(1) serve,$$(SERVE_CMD))
	@printf '%s\t%s\n' '$$(SERVE_NAME)' '$$(SERVE_CHECKPOINT)' > $$@.tmp && mv $$@.tmp $$@
endef

# EVALS N: iteration N's model on val (its bad cases embedded: they lead
# the next plan) and on test.  With an http evaluation and EMBED=model the
# val items are embedded by the builtin model first (val.embedded), and
# the server's evaluation keeps their embedding.
define EVALS
ifeq ($(http_eval),)
$(RUN)/iter$(1)/val.eval.jsonl.zst: $(call eval_needs,$(1)) $(VAL_ITEMS) $(BINDIR)/mlde-eval | $(RUN)/knobs
	@$$(call timed,iter$(1) eval val,$$(EVAL) $$(EVAL_FLAGS) $(if $(filter model,$(EMBED)),--embed) \
		-m $(call ckpt,$(1)) -o $$@ $(VAL_ITEMS))
$(RUN)/iter$(1)/test.eval.jsonl.zst: $(call eval_needs,$(1)) $(TEST_ITEMS) $(BINDIR)/mlde-eval | $(RUN)/knobs
	@$$(call timed,iter$(1) eval test,$$(EVAL) $$(EVAL_FLAGS) -m $(call ckpt,$(1)) -o $$@ $(TEST_ITEMS))
else
ifeq ($(EMBED),model)
$(RUN)/iter$(1)/val.embedded.jsonl.zst: $(call ckpt,$(1)) $(VAL_ITEMS) $(BINDIR)/mlde-eval | $(RUN)/knobs
	@$$(call timed,iter$(1) embed val,$$(EVAL) $$(EMBED_FLAGS) --embed -m $(call ckpt,$(1)) -Z \
		-o $$@.plain.tmp $(VAL_ITEMS))
	@jq -c 'del(.pred, .correct, .scores, .model)' $$@.plain.tmp | zstd -q > $$@.tmp && \
		rm -f $$@.plain.tmp && mv $$@.tmp $$@
$(RUN)/iter$(1)/val.eval.jsonl.zst: $(call eval_needs,$(1)) $(RUN)/iter$(1)/val.embedded.jsonl.zst \
		$(BINDIR)/mlde-eval | $(RUN)/knobs
	@$$(call timed,iter$(1) eval val,$$(EVAL_HTTP) -m $(call served_name,$(1)) -o $$@ \
		$(RUN)/iter$(1)/val.embedded.jsonl.zst)
else
$(RUN)/iter$(1)/val.eval.jsonl.zst: $(call eval_needs,$(1)) $(VAL_ITEMS) $(BINDIR)/mlde-eval | $(RUN)/knobs
	@$$(call timed,iter$(1) eval val,$$(EVAL_HTTP) $(if $(filter http,$(EMBED)),--embed $$(EMBED_FLAGS)) \
		-m $(call served_name,$(1)) -o $$@ $(VAL_ITEMS))
endif
$(RUN)/iter$(1)/test.eval.jsonl.zst: $(call eval_needs,$(1)) $(TEST_ITEMS) $(BINDIR)/mlde-eval | $(RUN)/knobs
	@$$(call timed,iter$(1) eval test,$$(EVAL_HTTP) -m $(call served_name,$(1)) -o $$@ $(TEST_ITEMS))
endif
endef

prev = $(shell echo $$(($(1) - 1)))
# a seed of its own for each iteration's sampling and generation
iter_seed = $(shell echo $$(($(SEED) * 1000 + $(1))))

# ITERATION N: the steps of iteration N >= 1, from model N-1 to model N.
define ITERATION
$(RUN)/iter$(1)/weak.jsonl.zst: $(RUN)/iter$(call prev,$(1))/val.eval.jsonl.zst $(BINDIR)/mlde-weak | $(RUN)/iter$(1)
	@$$(call timed,iter$(1) weak,$(BINDIR)/mlde-weak -q --weight $(WEIGHT) \
		$$(addprefix --type ,$(TYPES)) -o $$@ $$<)

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
		$$(GEN_FLAGS) --rejects $(RUN)/iter$(1)/rejects.jsonl.zst \
		-o $(RUN)/iter$(1)/gen.jsonl.zst $$<)

endef

# REVIEW N: the reviewer's verdicts on iteration N's generated items (the
# review records of mlde-prompt(1), each naming the item's prompt version):
# on REVIEW_SAMPLE of them, every k-th so that all the plan's types are
# seen, or on all of them when GEN_FILTER=accepted trains on those it
# accepts.  The world reviewer judges from the plans' world annotations;
# its records get a fixed time, so that a run's bytes do not depend on the
# hour (a judge's records keep theirs).  The judge's log is appended to as
# it goes (review.log.tmp), so an interrupted judge asks only the rest.
define REVIEW
$(RUN)/iter$(1)/review.jsonl.zst: $(RUN)/iter$(1)/gen.jsonl.zst $(RUN)/iter$(1)/plan.jsonl.zst \
		$(BINDIR)/mlde-prompt | $(RUN)/knobs
	@n=$$$$(zstd -dc $$< | wc -l); zstd -dc $$< | awk -v s=$(if $(filter accepted,$(GEN_FILTER)),$$$$n,$$(REVIEW_SAMPLE)) \
		-v n=$$$$n 'n <= s || int(NR * s / n) > int((NR - 1) * s / n)' > $$@.items.tmp
	@$(if $(filter world,$(REVIEWER)),rm -f $$@.log.tmp,[ ! -e $$@.log.tmp ] || [ $$@.log.tmp -nt $$< ] || \
		rm -f $$@.log.tmp)
	@$(if $(filter world,$(REVIEWER)),MLDE_TIME=1970-01-01T00:00:00Z) $$(call timed,iter$(1) review,$(BINDIR)/mlde-prompt judge -q $(if $(filter world,$(REVIEWER)),--world \
		$(RUN)/iter$(1)/plan.jsonl.zst,--images $(IMAGES) $$(JUDGE_FLAGS)) -o $$@.log.tmp $$@.items.tmp)
	@zstd -q -c $$@.log.tmp > $$@.tmp && mv $$@.tmp $$@ && rm -f $$@.log.tmp $$@.items.tmp

# the items of iteration N the reviewer accepted (its last verdict on each
# is correct), for GEN_FILTER=accepted
$(RUN)/iter$(1)/gen.accepted.jsonl.zst: $(RUN)/iter$(1)/gen.jsonl.zst $(RUN)/iter$(1)/review.jsonl.zst
	@zstd -dc $(RUN)/iter$(1)/review.jsonl.zst > $$@.review.tmp
	@zstd -dc $$< | jq -cn --slurpfile r $$@.review.tmp \
		'($$$$r | map({key: .item, value: .verdict}) | from_entries) as $$$$v | inputs | select($$$$v[.id] == "correct")' | \
		zstd -q > $$@.tmp && rm -f $$@.review.tmp && mv $$@.tmp $$@
endef

# POOL_STEP N: the pool embedded for iteration N's plan, by model N-1
# (EMBED=model), by the served embedding model (http), or as it is (none)
define POOL_STEP
ifeq ($(EMBED),none)
$(RUN)/iter$(1)/pool.jsonl.zst: $(POOL) | $(RUN)/iter$(1) $(RUN)/knobs
	@ln -sfn $(abspath $(POOL)) $$@
else ifeq ($(EMBED),http)
$(RUN)/iter$(1)/pool.jsonl.zst: $(call eval_needs,$(call prev,$(1))) $(POOL) $(BINDIR)/mlde-eval | $(RUN)/iter$(1)
	@$$(call timed,iter$(1) embed pool,$$(EVAL_HTTP) --embed $$(EMBED_FLAGS) \
		-m $(call served_name,$(call prev,$(1))) -o $$@ $(POOL))
else
$(RUN)/iter$(1)/pool.jsonl.zst: $(call ckpt,$(call prev,$(1))) $(POOL) $(BINDIR)/mlde-eval | $(RUN)/iter$(1)
	@$$(call timed,iter$(1) embed pool,$$(EVAL) $$(EMBED_FLAGS) --embed -m $(call ckpt,$(call prev,$(1))) \
		-o $$@ $(POOL))
endif
endef

# what the builtin trainer of iteration N trains on: the base set and every
# iteration's generated items so far (cumulative), or with REPLAY every
# generated item so far and, each epoch, a seeded draw of REPLAY of the base
# set (which iteration 0 learned; without a base set, the generated alone)
train_files = $(if $(and $(strip $(REPLAY)),$(strip $(BASE_ITEMS))),--old $(BASE_ITEMS) --replay $(REPLAY) \
	$(call gens_upto,$(1)),$(BASE_ITEMS) $(call gens_upto,$(1)))

# TRAIN_STEP N: model N fine-tuned from N-1 (train_files), by mlde-train, or
# by TRAIN_CMD on the base set and every iteration's generated items so far
define TRAIN_STEP
ifeq ($(strip $(TRAIN_CMD)),)
$(call ckpt,$(1)): $(call ckpt,$(call prev,$(1))) $(BASE_ITEMS) $(call gens_upto,$(1)) $(BINDIR)/mlde-train
	@$$(call timed,iter$(1) train,$$(TRAIN) --init $(call ckpt,$(call prev,$(1))) --epochs $(ITER_EPOCHS) \
		--lr $(ITER_LR) $(if $(strip $(FREEZE_STEM)),--freeze-stem $(FREEZE_STEM)) -o $$@ $(call train_files,$(1)))
else
$(call TRAIN_EXTERNAL,$(1),$(call ckpt,$(call prev,$(1))),$(ITER_EPOCHS),$(ITER_LR))
endif
endef

EVALS_UPTO = $(foreach i,$(shell seq 0 $(1)),$(RUN)/iter$(i)/val.eval.jsonl.zst \
	$(RUN)/iter$(i)/test.eval.jsonl.zst)
REVIEWS_UPTO = $(foreach i,$(shell seq 1 $(1)),$(RUN)/iter$(i)/review.jsonl.zst)

# iterN: model N evaluated on val and test, then the report of 0..N.  A
# make of its own makes the files, after the plan of what it will make
# (from make -n of the same files, read by mk/plan.sh).
# bin/ before the loop, with every core (BUILD_JOBS), unless the command
# line chose the jobs (-jN is in MAKEFLAGS then, and this make's job server
# is shared); the loop's own make then runs its steps as it always has: one
# at a time, or -jN of them.  (In a recipe, which sees -j where the parsing
# of make 4.3 does not.)
build_first = case " $$MAKEFLAGS " in *" -j"*) jobs= ;; *) jobs="$(BUILD_JOBS)" ;; esac; \
	$(MAKE) --no-print-directory $$jobs build

define ITER_GOAL
.PHONY: iter$(1) iter$(1)-files
ifeq ($(strip $(DRY_RUN)),)
iter$(1):
	+@$$(build_first)
	@$$(MAKE) --no-print-directory -n iter$(1)-files 2> /dev/null | \
		sh mk/plan.sh iter$(1) $(RUN) $(TIMES_RECORD)
	@$$(MAKE) --no-print-directory iter$(1)-files
	@RUN=$(RUN) MLDE_BIN=$(abspath $(BINDIR)) PRICES=$(abspath $(PRICES)) sh mk/report.sh $(1)
else
iter$(1): $(BINDIR)/mlde-gen $(BINDIR)/mlde-eval
	@$(call dry_run,$(1))
endif
iter$(1)-files: $(call EVALS_UPTO,$(1)) $(if $(reviewing),$(call REVIEWS_UPTO,$(1)))
	@:
endef

# ---- DRY_RUN=1: `make iterN DRY_RUN=1` counts and prices the requests of
# iterations 0..N that can be known now, sending nothing and making no
# target: each step still to make that sends (gen with BACKEND=http once
# its plan exists; the http evaluations of val and test, whose items are
# known; the pool's http embedding) is run with --dry-run, and the rows
# (mlde-gen(1), Cost), each led by its step, are added up on stdout.  A
# step made already paid before; one whose input is not made yet (a later
# iteration's plan needs this one's evaluation) cannot be known: it is
# named on stderr.
DRY_COLUMNS := program model requests in_cache to_send input_tokens output_tokens_max output_tokens \
	history usd_max usd usd_batch price
# dry_step TARGET, INPUT, STEP, COMMAND: its rows into $$t
dry_step = if [ -e $(1) ]; then echo "dry run: $(3): made already" >&2; \
	elif [ ! -e $(2) ]; then echo "dry run: $(3): its input $(2) is not made yet: not counted" >&2; \
	else $(4) --dry-run --prices $(abspath $(PRICES)) | sed 's/^/$(3)\t/' >> "$$$$t" || exit 1; fi;
dry_evals = $(if $(http_eval),$(foreach s,val test,$(call dry_step,$(RUN)/iter$(1)/$(s).eval.jsonl.zst,$($(if \
	$(filter val,$(s)),VAL,TEST)_ITEMS),iter$(1) eval $(s),$$(EVAL_HTTP) $(if $(and $(filter val,$(s)),$(filter \
	http,$(EMBED))),--embed $$(EMBED_FLAGS)) -m $(call served_name,$(1)) $($(if $(filter val,$(s)),VAL,TEST)_ITEMS))))
dry_gen = $(if $(filter http,$(BACKEND)),$(call dry_step,$(RUN)/iter$(1)/gen.jsonl.zst,$(RUN)/iter$(1)/plan.jsonl.zst,iter$(1) \
	gen,$(BINDIR)/mlde-gen -q --backend http --seed $(call iter_seed,$(1)) $$(GEN_FLAGS) $(RUN)/iter$(1)/plan.jsonl.zst))
dry_pool = $(if $(filter http,$(EMBED)),$(call dry_step,$(RUN)/iter$(1)/pool.jsonl.zst,$(POOL),iter$(1) embed \
	pool,$$(EVAL_HTTP) --embed $$(EMBED_FLAGS) -m $(call served_name,$(call prev,$(1))) $(POOL)))
dry_iter = $(if $(filter 0,$(1)),,$(call dry_pool,$(1)) $(call dry_gen,$(1))) $(call dry_evals,$(1))
dry_run = t=$$$$(mktemp) && trap 'rm -f "$$$$t"' EXIT && \
	{ $(foreach i,$(shell seq 0 $(1)),$(call dry_iter,$(i))) true; } && \
	printf 'step\t%s\n' "$$$$(printf '$(subst $(space),\t,$(DRY_COLUMNS))')" && \
	awk -F '\t' '$$$$2 == "program" { next } { print; r += $$$$4; c += $$$$5; s += $$$$6; i += $$$$7; \
		om += $$$$8; o += $$$$9; um += $$$$11; u += $$$$12; ub += $$$$13; n++ } \
		END { printf "all\tall\tall\t%d\t%d\t%d\t%d\t%d\t%d\t-\t%.4f\t%.4f\t%.4f\t-\n", r, c, s, i, om, o, um, u, ub; \
		if (!n) print "dry run: nothing to send: every step is made, waits for another, or sends nothing" > "/dev/stderr" }' "$$$$t"

$(foreach n,$(shell seq 1 $(ITERS_MAX)),$(eval $(call ITERATION,$(n))))
$(foreach n,$(shell seq 1 $(ITERS_MAX)),$(eval $(call POOL_STEP,$(n))))
$(foreach n,$(shell seq 1 $(ITERS_MAX)),$(eval $(call TRAIN_STEP,$(n))))
ifneq ($(reviewing),)
$(foreach n,$(shell seq 1 $(ITERS_MAX)),$(eval $(call REVIEW,$(n))))
endif
$(foreach n,$(shell seq 0 $(ITERS_MAX)),$(eval $(call EVALS,$(n))))
ifneq ($(strip $(TRAIN_CMD)),)
ifeq ($(no_base),)
$(eval $(call TRAIN_EXTERNAL,0,$(MODEL0),$(BASE_EPOCHS),$(LR)))
endif
endif
ifneq ($(strip $(SERVE_CMD)),)
$(foreach n,$(shell seq 0 $(ITERS_MAX)),$(if $(call serving,$(n)),$(eval $(call SERVE,$(n)))))
endif
$(foreach n,$(shell seq 0 $(ITERS_MAX)),$(eval $(call ITER_GOAL,$(n))))
