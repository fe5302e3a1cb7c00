#!/bin/sh
# tests/bench/run.sh - run every benchmark (make bench).  Figures are rates
# and ratios against a reference measured in the same run, never asserted;
# first the machine they were measured on (cores, CPU, sgemm's rate).
set -eu
: "${MLDE_BIN:?set MLDE_BIN (make bench does)}"
dir=$(dirname "$0")
# the machine first, in the words the README uses for its own figures
echo "== machine"
echo "  $(nproc) cores, CPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "  $("$MLDE_BENCHBIN/bench-sgemm" "${BENCH_THREADS:-2}")"
for b in "$dir"/bench-*.sh; do
	echo "== $(basename "$b" .sh | sed 's/^bench-//')"
	sh "$b"
done
