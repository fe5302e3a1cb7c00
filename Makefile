# mlde - a closed-loop data engine for multimodal LLMs, as Unix filters.
# `make` builds bin/, `make check` runs every test; both install the Debian
# packages first when they are missing (mk/deps.mk).  See README.md.

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

PREFIX ?= /usr/local
BINPREFIX = $(DESTDIR)$(PREFIX)/bin
MANPREFIX = $(DESTDIR)$(PREFIX)/share/man

# SANITIZE=1 builds everything apart, with ASan and UBSan, and tests that.
ifeq ($(SANITIZE),1)
O := build/sanitize
BINDIR := $(O)/bin
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
O := build/default
BINDIR := bin
SANFLAGS :=
endif

# The build uses every core: a plain `make` (goal all, at the top level)
# runs this machine's number of jobs, and `make iterN` builds bin/ the same
# way before its steps (mk/loop.mk).  A -jN on the command line wins, as
# make lets it win over MAKEFLAGS set here.  Other goals run as many jobs
# as they are given: the loop's steps one at a time, each on THREADS, and
# the tests, whose own makes must not inherit a job server.
NPROC := $(shell nproc 2> /dev/null || getconf _NPROCESSORS_ONLN 2> /dev/null || echo 1)
BUILD_JOBS := -j$(NPROC) --output-sync=target
ifeq ($(MAKELEVEL)$(filter-out all,$(or $(MAKECMDGOALS),all)),0)
MAKEFLAGS += $(BUILD_JOBS)
endif

include mk/deps.mk
ifdef CONFIG
include $(CONFIG)
endif
include mk/config.mk

NODEPS_GOALS := deps clean distclean help
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(O)/pkg.mk
endif

CC ?= cc
CFLAGS ?= -O2 -g
MLDE_CFLAGS = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Itools/lib -Itools $(PKG_CFLAGS) $(SANFLAGS)
LDLIBS_ALL = -Wl,--as-needed $(PKG_LIBS) -ljq -lm -lpthread

PROGRAMS := mlde-weak mlde-sample mlde-world mlde-gen mlde-train mlde-eval mlde-import mlde-export \
	mlde-type mlde-prompt
# tools/lib/ is the library: it returns errors and never prints or exits.
# tools/cli/ is the program layer every program links besides: options,
# diagnostics, progress, the exit path.
LIB_SRC := $(wildcard tools/lib/*/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
LIBMLDE := $(O)/libmlde.a
CLI_SRC := $(wildcard tools/cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(O)/%.o)
LIBCLI := $(O)/libmlde-cli.a
UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
BINS := $(PROGRAMS:%=$(BINDIR)/%)
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(O)/bench/bench-%)

.PHONY: all build check valgrind-check valgrind-main bench install uninstall clean distclean help

all: $(BINS)

# all, saying nothing when there is nothing to do (mk/loop.mk's iterN
# makes it first)
build: $(BINS)
	@:

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(MLDE_CFLAGS) -MMD -MP -c -o $@ $<

# The model's inner loops want the vectoriser, which -O2 of GCC 12 barely runs.
$(O)/tools/lib/model/nn.o $(O)/tools/lib/model/network.o $(O)/tools/lib/model/gemm.o $(O)/tools/lib/model/conv.o: CFLAGS += -O3

$(LIBMLDE): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBCLI): $(CLI_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BINDIR)/%: $(O)/tools/%.o $(LIBMLDE) $(LIBCLI)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(LIBCLI) $(LIBMLDE) $(LDLIBS_ALL)

$(O)/tests/%: $(O)/tests/unit/%.o $(LIBMLDE) $(LIBCLI)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(LIBCLI) $(LIBMLDE) $(LDLIBS_ALL)

$(O)/bench/bench-%: $(O)/tests/bench/%.o $(LIBMLDE) $(LIBCLI)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(LIBCLI) $(LIBMLDE) $(LDLIBS_ALL)

-include $(shell find build -name '*.d' 2>/dev/null)

include mk/loop.mk
include mk/ablation.mk

# Every test speaks TAP; prove runs them and prints the summary.
# MLDE_BIN and MLDE_TESTBIN tell the tests which build to run.
# OpenBLAS sizes its thread pool by the host's cores unless told: the
# suite runs with two, as on the 2-core machines it is written on, so a
# large CI host runs the same threads (and programs without --threads do
# the same arithmetic) as a laptop.
PROVE ?= prove
PROVE_FLAGS ?= -j2
TEST_ENV = OPENBLAS_NUM_THREADS=2
# The I/O fault shim of tests/cli/faults.t, preloaded into the programs:
# built without the sanitizers (it only forwards calls), whatever the build.
FAULT_SHIM := $(O)/tests/fault-shim.so
$(FAULT_SHIM): tests/faults/shim.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=c11 -Wall -Wextra -fPIC -shared -o $@ $< -ldl
# LeakSanitizer: libjq 1.6's own leaks are suppressed there, by name, and
# nothing else (tests/lsan.supp says which input shows each).
check: $(BINS) $(UNIT_BIN) $(BENCH_BIN) $(FAULT_SHIM)
	$(TEST_ENV) MLDE_BIN=$(abspath $(BINDIR)) MLDE_TESTBIN=$(abspath $(O)/tests) MLDE_MAKEVARS="SANITIZE=$(SANITIZE)" \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
	$(PROVE) $(PROVE_FLAGS) tests/unit/*.t tests/cli/*.t tests/browser/*.t

# The command-line tests again, every program under valgrind (slow).
valgrind-check: $(BINS)
	$(TEST_ENV) MLDE_BIN=$(abspath $(BINDIR)) MLDE_VALGRIND=1 $(PROVE) $(PROVE_FLAGS) tests/cli/*.t

# The main path of every program under valgrind, at a size it can run.
valgrind-main: $(BINS)
	MLDE_BIN=$(abspath $(BINDIR)) sh tests/valgrind-main.sh

bench: $(BINS) $(BENCH_BIN)
	MLDE_BIN=$(abspath $(BINDIR)) MLDE_BENCHBIN=$(abspath $(O)/bench) sh tests/bench/run.sh

install: $(BINS)
	mkdir -p $(BINPREFIX) $(MANPREFIX)/man1 $(MANPREFIX)/man7
	cp $(BINS) $(BINPREFIX)/
	cp man/*.1 $(MANPREFIX)/man1/
	cp man/*.7 $(MANPREFIX)/man7/
	mkdir -p $(DESTDIR)$(PREFIX)/share/mlde/prompts
	cp prompts/* $(DESTDIR)$(PREFIX)/share/mlde/prompts/

uninstall:
	rm -f $(PROGRAMS:%=$(BINPREFIX)/%)
	rm -f $(patsubst man/%,$(MANPREFIX)/man1/%,$(wildcard man/*.1))
	rm -f $(patsubst man/%,$(MANPREFIX)/man7/%,$(wildcard man/*.7))
	rm -rf $(DESTDIR)$(PREFIX)/share/mlde

clean:
	rm -rf build bin

distclean: clean
	rm -rf runs

help:
	@echo "make            build the programs into bin/, with every core (-jN to choose)"
	@echo "make iterN      the loop to iteration N (N = 0..$(ITERS_MAX); iter3 is the main job)"
	@echo "                into RUN=$(RUN), then its report; knobs: mk/config.mk, CONFIG=FILE"
	@echo "make RUN/iterN/FILE  one file of the loop, and what it needs (mk/loop.mk)"
	@echo "make ablation   the loop with ABS and with uniform sampling, SEEDS=\"$(SEEDS)\","
	@echo "                into $(ABLATION_DIR)/, and the two side by side"
	@echo "make check      run every test (SANITIZE=1: with ASan and UBSan)"
	@echo "make browser-deps    Chromium and puppeteer-core, for the review page's"
	@echo "                browser test (tests/browser/review.t)"
	@echo "make fuzz       every libFuzzer target for FUZZ_SECONDS (FUZZ_TARGETS=...; installs clang)"
	@echo "make valgrind-check  the command-line tests under valgrind"
	@echo "make valgrind-main   the main path of every program under valgrind"
	@echo "make bench      run the benchmarks, with this machine's cores, CPU and sgemm rate"
	@echo "make deps       install the Debian packages (as root; every goal but"
	@echo "                deps, clean, distclean and help does it when one is missing)"
	@echo "make install    install programs and man pages under PREFIX=$(PREFIX)"
	@echo "make uninstall  remove them"
	@echo "make clean      remove build/ and bin/; distclean: runs/ too"
	@echo "make help       this text"

# ---- fuzzing: `make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="jsonl png"]` ----
# Each tests/fuzz/fuzz-NAME.c is a libFuzzer target, built with clang
# under ASan and UBSan against the library built the same way (in
# build/fuzz/), then run for FUZZ_SECONDS on one core from a corpus seeded
# from the fixtures (tests/fuzz/seed.sh).  A crash stops the run with its
# input saved as build/fuzz/crash-NAME-*: keep it under
# tests/fuzz/regress/NAME/, where make check replays it
# (tests/unit/fuzz-regress.t).  It ends with a table, a row a target:
# exec/s, coverage (cov:, ft:), corpus size, crashes (tests/fuzz/report.sh).
# clang is installed only for this goal.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_O := build/fuzz
FUZZ_ALL := $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -g -O1 -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-Itools/lib -Itools $(PKG_CFLAGS) $(FUZZ_SAN)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_O)/%.o)

# The review page's browser test (tests/browser/review.t, run by make check,
# skipped without them) needs Chromium and puppeteer-core: installed only
# by this goal (mk/deps.sh browser), never by make or make check.
.PHONY: browser-deps
browser-deps:
	@sh mk/deps.sh browser

.PHONY: fuzz fuzz-build fuzz-deps
fuzz-deps:
	@sh mk/deps.sh fuzz

$(FUZZ_O)/%.o: %.c | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_O)/libmlde.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_O)/fuzz-%: $(FUZZ_O)/tests/fuzz/fuzz-%.o $(FUZZ_O)/libmlde.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_O)/libmlde.a $(LDLIBS_ALL)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz-%)

# libjq 1.6 leaks inside its JSON parser on some bad input, suppressed by
# tests/lsan.supp, which needs full stacks (slower): only the targets that
# parse JSON get them.
FUZZ_JSON := jsonl reply safetensors answer import http
fuzz: fuzz-build $(BINDIR)/mlde-world $(BINDIR)/mlde-train $(BINDIR)/mlde-gen
	@for t in $(FUZZ_TARGETS); do \
		sh tests/fuzz/seed.sh $$t $(FUZZ_O)/corpus/$$t $(abspath $(BINDIR)) || exit 1; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		case " $(FUZZ_JSON) " in *" $$t "*) fast=0 ;; *) fast=1 ;; esac; \
		ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=$$fast:malloc_context_size=8 \
		LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
		UBSAN_OPTIONS=print_stacktrace=1 \
		$(FUZZ_O)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
			-max_len=$$(sh tests/fuzz/seed.sh --max-len $$t) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_O)/crash-$$t- $(FUZZ_O)/corpus/$$t \
			2> $(FUZZ_O)/$$t.log || { tail -40 $(FUZZ_O)/$$t.log; exit 1; }; \
	done
	@sh tests/fuzz/report.sh $(FUZZ_O) $(FUZZ_TARGETS)
