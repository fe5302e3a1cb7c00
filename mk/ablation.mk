# mk/ablation.mk - does targeting pay?  `make ablation [SEEDS="1 2 3"]` runs
# the loop to ABLATION_ITERS with ABS and with uniform sampling at the same
# budget, each seed in its own run directory, then prints test accuracy
# per iteration side by side (overall and per type, mean over the seeds).
# Each run is a whole loop with its own configuration, so it is its own
# make invocation.
SEEDS ?= 1 2 3
ABLATION_DIR ?= runs/ablation
ABLATION_ITERS ?= 3
ABLATION_STRATEGIES ?= abs uniform

.PHONY: ablation
ablation: $(BINS)
	@for seed in $(SEEDS); do for strategy in $(ABLATION_STRATEGIES); do \
		echo "ablation: $$strategy, seed $$seed"; \
		$(MAKE) --no-print-directory iter$(ABLATION_ITERS) SEED=$$seed STRATEGY=$$strategy \
			RUN=$(ABLATION_DIR)/$$strategy-seed$$seed > /dev/null || exit 1; \
	done; done
	@sh mk/ablation.sh $(ABLATION_DIR) "$(SEEDS)" "$(ABLATION_STRATEGIES)"
