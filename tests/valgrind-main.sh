#!/bin/sh
# tests/valgrind-main.sh - the main paths of every program under valgrind
# (make valgrind-main): a tiny world, training from scratch and from
# --init, eval with --embed on items and on pool records, and one bad
# input.  A memory error or a definite leak exits 99, which fails it.
# The CLI tests under valgrind (make valgrind-check) take too long for
# mlde-train; this covers its paths at a size valgrind can run.
# OpenBLAS gets one thread: its workers spin-wait, which crawls when
# valgrind runs one thread at a time.
set -eu
: "${MLDE_BIN:?set MLDE_BIN (make valgrind-main does)}"
export LC_ALL=C OPENBLAS_NUM_THREADS=1
dir=$(mktemp -d "${TMPDIR:-/tmp}/mlde-vg.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"
vg() {
	name=$1
	shift
	printf '%-28s' "$name"
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$@"
	echo "clean"
}
B=$MLDE_BIN
vg "mlde-world" "$B/mlde-world" -q --seed 3 --out w --images 12 --base 30 --val 18 --test 18
vg "mlde-train" "$B/mlde-train" -q --images w --epochs 1 --batch 16 -o m.st w/base.jsonl.zst
vg "mlde-train --init" "$B/mlde-train" -q --init m.st --images w --epochs 1 --batch 16 \
	-o m2.st w/base.jsonl.zst
vg "mlde-eval --embed (items)" "$B/mlde-eval" -q -m m2.st --images w --embed -o e.zst \
	w/test.jsonl.zst
vg "mlde-eval --embed (pool)" "$B/mlde-eval" -q -m m2.st --images w --embed -o p.zst \
	w/pool.jsonl.zst
vg "mlde-weak" "$B/mlde-weak" -q -o weak.zst e.zst
vg "mlde-sample" "$B/mlde-sample" -q --weak weak.zst --pool p.zst --budget 20 -o plan.zst e.zst
vg "mlde-gen (world backend)" "$B/mlde-gen" -q --backend world --rejects rej.zst -o gen.zst plan.zst
printf '{"image":"nope.png","question":"q","options":["a","b"],"answer":0}\n' > bad.jsonl
printf '%-28s' "mlde-eval, a missing image"
set +e
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	"$B/mlde-eval" -q -m m2.st --images w bad.jsonl > /dev/null 2> bad.err
status=$?
set -e
[ "$status" -eq 3 ] || { echo "exit $status, want 3"; cat bad.err; exit 1; }
echo "clean (exit 3)"
