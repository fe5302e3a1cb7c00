# mk/ablation.mk - does targeting pay?  `make ablation [SEEDS="1 2 3"]` runs
# the loop to ABLATION_ITERS with ABS and with uniform sampling at the same
# budget, each seed in its own run directory, then prints test accuracy
# per iteration side by side (overall and per type, mean over the seeds),
# the two compared item by item with a 95% interval, and a chart
# (mk/ablation.sh).
# Each run is a whole loop with its own configuration, so it is its own
# make invocation.  The world and the baseline do not depend on the
# strategy: the later strategies of a seed start from a copy of the first's
# (cp -p keeps the times, so make sees them as made).
SEEDS ?= 1 2 3
ABLATION_DIR ?= runs/ablation
ABLATION_ITERS ?= 3
ABLATION_STRATEGIES ?= abs uniform

.PHONY: ablation
ablation: $(BINS)
	@first=$(firstword $(ABLATION_STRATEGIES)); \
	for seed in $(SEEDS); do for strategy in $(ABLATION_STRATEGIES); do \
		(echo "ablation: $$strategy, seed $$seed") || true; \
		run=$(ABLATION_DIR)/$$strategy-seed$$seed; from=$(ABLATION_DIR)/$$first-seed$$seed; \
		if [ "$$strategy" != "$$first" ] && [ ! -d "$$run" ] && [ -d "$$from/iter0" ]; then \
			mkdir -p "$$run" && cp -Rp "$$from/world" "$$from/iter0" "$$run/"; \
		fi; \
		$(MAKE) --no-print-directory iter$(ABLATION_ITERS) SEED=$$seed STRATEGY=$$strategy \
			RUN=$(ABLATION_DIR)/$$strategy-seed$$seed > /dev/null || exit 1; \
	done; done
	@sh mk/ablation.sh $(ABLATION_DIR) "$(SEEDS)" "$(ABLATION_STRATEGIES)"
