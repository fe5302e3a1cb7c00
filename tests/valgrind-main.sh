#!/bin/sh
# tests/valgrind-main.sh - the main paths of every program under valgrind
# (make valgrind-main): a tiny world, training from scratch and from
# --init, eval with --embed on items and on pool records, the programs
# that talk to a server against the stub, the importer, the exporter, the
# world's reviewer, and one bad input.  A memory error or a definite leak exits 99, which fails it.
# The CLI tests under valgrind (make valgrind-check) take too long for
# mlde-train; this covers its paths at a size valgrind can run.
# OpenBLAS gets one thread: its workers spin-wait, which crawls when
# valgrind runs one thread at a time.
set -eu
: "${MLDE_BIN:?set MLDE_BIN (make valgrind-main does)}"
export LC_ALL=C OPENBLAS_NUM_THREADS=1
TESTS=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/mlde-vg.XXXXXX")
stubs=
trap '[ -z "$stubs" ] || kill $stubs 2> /dev/null; rm -rf "$dir"' EXIT
cd "$dir"
vg() {
	name=$1
	shift
	printf '%-28s' "$name"
	# VG_OUT=FILE: the program's standard output goes there (not through
	# /dev/fd/1, whose opening would truncate a log this is written to)
	if [ -n "${VG_OUT:-}" ]; then
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			"$@" > "$VG_OUT"
	else
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$@"
	fi
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
# the programs that talk to a server, against stubs on 127.0.0.1: one
# that takes vision requests only (mlde-eval's), one for text
# start_stub NAME [ARGS]: its base URL in URL
start_stub() {
	name=$1
	shift
	perl "$TESTS/stub-openai.pl" --port-file "$name.port" --log "$name.log" "$@" &
	stubs="$stubs $!"
	i=0
	while [ ! -s "$name.port" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	URL="http://127.0.0.1:$(cat "$name.port")/v1"
}
export OPENAI_API_KEY=sk-valgrind-fake-key
start_stub vision --vision
vg "mlde-eval --backend http" "$B/mlde-eval" -q --backend http -m served --base-url "$URL" \
	--cache c --circular --images w -o h.zst w/test.jsonl.zst
start_stub text
vg "mlde-gen (http backend)" "$B/mlde-gen" -q --base-url "$URL" --cache c --rejects hrej.zst \
	-o hgen.zst plan.zst
vg "mlde-type" "$B/mlde-type" -q --base-url "$URL" --cache c --retype --rejects trej.zst \
	-o typed.zst w/val.jsonl.zst
vg "mlde-import mmbench" "$B/mlde-import" mmbench -q --images mmb -o mmb.zst \
	"$TESTS/fixtures/formats/mmbench_samples_assembled.tsv"
vg "mlde-export llava" "$B/mlde-export" llava -q --images-out ex -o train.json gen.zst
vg "mlde-prompt judge --world" "$B/mlde-prompt" judge -q --world plan.zst -o rev.jsonl gen.zst
VG_OUT=score.out vg "mlde-prompt score" "$B/mlde-prompt" score -q rev.jsonl
printf '{"image":"nope.png","question":"q","options":["a","b"],"answer":0}\n' > bad.jsonl
printf '%-28s' "mlde-eval, a missing image"
set +e
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	"$B/mlde-eval" -q -m m2.st --images w bad.jsonl > /dev/null 2> bad.err
status=$?
set -e
[ "$status" -eq 3 ] || { echo "exit $status, want 3"; cat bad.err; exit 1; }
echo "clean (exit 3)"
