#!/bin/sh
# tests/bench/run.sh - run every benchmark (make bench).  Figures are rates
# and ratios against a reference measured in the same run, never asserted.
set -eu
: "${MLDE_BIN:?set MLDE_BIN (make bench does)}"
dir=$(dirname "$0")
for b in "$dir"/bench-*.sh; do
	echo "== $(basename "$b" .sh | sed 's/^bench-//')"
	sh "$b"
done
