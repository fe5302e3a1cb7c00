#!/bin/sh
# Every command of README.md runs as written.  The commands are the lines
# of its ```sh blocks and the "$ " lines of its ```console blocks, run in
# order in one scratch directory (so the first session's files serve the
# later examples), with the build under test on PATH.  A block whose first
# line is "# not run by the tests: ..." needs what a test cannot have (a
# server, a key).  make commands run as make -n in the checkout, with a
# tiny world and a scratch RUN: the loop itself is tested in loop.t.  A
# pipeline fails when any of its commands fails (bash's pipefail), but for
# those cut by head.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$TESTS_DIR/.." && pwd)
unset MAKEFLAGS MAKELEVEL MFLAGS
TINY="WORLD_IMAGES=200 WORLD_BASE=400 WORLD_VAL=90 WORLD_TEST=90 BASE_EPOCHS=2 ITER_EPOCHS=1 THREADS=1"

# the commands, one a line (continuations joined), "skip: " before those of
# blocks that are not run
awk '
	/^```/ && !inblock { inblock = 1; kind = substr($0, 4); first = 1; skip = 0; next }
	/^```/ && inblock { inblock = 0; next }
	!inblock { next }
	first { first = 0; if ($0 ~ /^# not run by the tests/) skip = 1 }
	kind == "console" { if ($0 !~ /^\$ /) next; sub(/^\$ /, "") }
	kind != "sh" && kind != "console" { next }
	/^[ \t]*(#|$)/ { next }
	{
		line = cont $0; cont = ""
		if (line ~ /\\$/) { sub(/\\$/, "", line); cont = line; next }
		print (skip ? "skip: " : "") line
	}' "$ROOT/README.md" > commands

holds "README.md has commands to run" test "$(grep -vc '^skip: ' commands)" -gt 10
# the blocks not run are those that need a server or a key, and no other
if grep '^skip: ' commands | grep -vq '^skip: \(export OPENAI_API_KEY=\|mlde-gen \|mlde-eval --backend http \|mlde-weak --tsv llava\|mlde-import mmbench \|vllm serve \|make$\|mkdir -p data\|cp MMBench\|unzip \|huggingface-cli \|git clone https://github.com/haotian-liu\|VLLM_ALLOW\|export OPENAI_API_KEY=sk\|make iter1 CONFIG=examples/llava\)'; then
	ok 1 "the commands not run need a server, a key or a download"
else
	ok 0 "the commands not run need a server, a key or a download"
fi

n=0
while IFS= read -r cmd; do
	n=$((n + 1))
	case $cmd in
	"skip: "*) continue ;;
	make*)
		eval "set -- ${cmd#make}"
		run make -s -n -C "$ROOT" ${MLDE_MAKEVARS:-} "$@" $TINY RUN="$SCRATCH/run$n" \
			ABLATION_DIR="$SCRATCH/abl$n" < /dev/null
		;;
	*"| head"*)
		# head may close the pipe early: only the status of the last counts
		run sh -c "$cmd" < /dev/null
		;;
	*)
		run bash -o pipefail -c "$cmd" < /dev/null
		;;
	esac
	is "$status" 0 "README: $cmd"
	[ "$status" -eq 0 ] || { diag "stderr:"; head -5 err >&2; }
done < commands

# what the examples claim
holds "mlde-gen --backend world made items from the plan" test -s gen.zst
is "$(zstdcat plan.zst | wc -l | tr -d ' ')" "100" "mlde-sample: --budget 100 requests"
run sh -c 'MLDE_PLAIN=1 mlde-weak test.eval.zst | jq -r .type | head -1'
is "$(cat out)" "instance_attributes" "MLDE_PLAIN=1 | jq reads the records"
run sh -c 'mlde-weak test.eval.zst | jq .'
holds "without it, | jq fails on zstd, as the README says" not test "$status" = 0

done_testing
