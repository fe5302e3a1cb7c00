#!/bin/sh
# test-json feeds libjq texts on which jv_parse_sized leaks inside libjq
# 1.6 (a value after another with no separator: tests/lsan.supp), whose
# frame LeakSanitizer sees only with full stacks
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
. "$(dirname "$0")/run-unit.sh"
