#!/bin/sh
# Full stacks: libjq's own leak on one of the inputs is suppressed by name
# (tests/lsan.supp), which a fast stack cannot show.
MLDE_FUZZ_DIR=$(cd "$(dirname "$0")/../fuzz" && pwd) && export MLDE_FUZZ_DIR
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0" && export ASAN_OPTIONS
. "$(dirname "$0")/run-unit.sh"
