#!/bin/sh
# The EXAMPLES section of every man page runs as a test, as jq's
# tests/man.test runs its manual: an example that fails fails the suite.
#
# Each example block (.nf ... .fi) of a page runs, in order, in one scratch
# directory per page that holds the files the examples name (a small world,
# a model, evaluations, weakness records, plans, the format samples of
# tests/fixtures/formats).  A block is one of:
#   - a session: lines starting "$ " are commands (with their "\"
#     continuation lines); the other lines are the output they show, and
#     each must match some line the commands printed, digits aside
#     ("..." ends a line early, a line of "..." alone is skipped);
#   - a make recipe ("target: prerequisites" and tab-indented commands): run
#     with make -B, the loop's variables set as mk/config.mk names them;
#   - anything else: a shell script.
# Everything runs with `set -e -o pipefail` under bash, so a failing stage
# of a pipeline fails its example.  Requests go to a stub OpenAI server on
# 127.0.0.1 (OPENAI_BASE_URL; the one example that names a vLLM address
# gets the stub's instead); nothing leaves the machine.  vLLM's offline
# run_batch (python -m vllm.entrypoints.openai.run_batch) is stood in for by
# tests/stand-in-run-batch.pl, which answers each line through the stub.
. "$(dirname "$0")/../lib.sh"
MAN=$TESTS_DIR/../man
STUB=$TESTS_DIR/stub-openai.pl
STUB_PID=
trap '[ -z "$STUB_PID" ] || kill "$STUB_PID" 2>/dev/null; rm -rf "$SCRATCH"' EXIT

# examples PAGE DIR: write each example block of PAGE as DIR/N (N = 1, 2 ...),
# roff escapes undone; prints the number of blocks
examples() {
	mkdir -p "$2"
	awk -v dir="$2" '
		/^\.SH / { inex = ($0 ~ /^\.SH "?EXAMPLES"?$/) ; next }
		!inex { next }
		/^\.nf/ { n++; file = dir "/" n; printf "" > file; inblock = 1; next }
		/^\.fi/ { inblock = 0; close(file); next }
		inblock && /^\.(RS|RE)/ { next }
		inblock {
			line = $0
			gsub(/\\-/, "-", line); gsub(/\\e/, "\\", line); gsub(/\\&/, "", line)
			gsub(/\\\(aq/, "'\''", line)
			print line > file
		}
		END { print n + 0 }' "$1"
}

# kind BLOCK: session, recipe or script
kind() {
	if grep -q '^\$ ' "$1"; then
		echo session
	elif head -1 "$1" | grep -Eq '^[^[:space:]#$][^=]*:([[:space:]]|$)' &&
		grep -q "$(printf '^\t')" "$1"; then
		echo recipe
	else
		echo script
	fi
}

# session_split BLOCK: its commands to BLOCK.sh, the output it shows to BLOCK.want
session_split() {
	awk -v sh="$1.sh" -v want="$1.want" '
		cont { print > sh; cont = /\\$/; next }
		/^\$ / { print substr($0, 3) > sh; cont = /\\$/; next }
		{ print > want }' "$1"
	touch "$1.sh" "$1.want"
}

# pattern LINE: an extended regex for a shown output line: digits stand for
# any number, runs of blanks for any, a trailing "..." for the rest of a line
pattern() {
	printf '%s\n' "$1" | sed -E \
		-e 's/[.][.][.]$/@ELLIPSIS@/' \
		-e 's/[][\\.*^$+?(){}|]/\\&/g' \
		-e 's/[0-9]+(\\\.[0-9]+)?/[0-9]+([.][0-9]+)?/g' \
		-e 's/[[:space:]]+/[[:space:]]+/g' \
		-e 's/^/^/' -e '/@ELLIPSIS@$/!s/$/$/' -e 's/(\[\[:space:\]\]\+)?@ELLIPSIS@$//'
}

# ---- the files the examples name ----
FIX=$SCRATCH/fixtures
mkdir "$FIX"
(
	cd "$FIX"
	mlde-world -q --seed 1 --out world --images 60 --base 200 --val 90 --test 90
	mlde-train -q --images world --epochs 1 --threads 1 -o iter0.st world/base.jsonl.zst
	mlde-eval -q --embed -m iter0.st --images world -o eval.jsonl.zst world/val.jsonl.zst
	mlde-eval -q --embed -m iter0.st --images world -o pool.zst world/pool.jsonl.zst
	mlde-weak -q -o weak.zst eval.jsonl.zst
	mlde-sample -q --weak weak.zst --pool pool.zst --budget 20 -o plan.zst eval.jsonl.zst
	mkdir -p iter0 iter1 iter2 iter3 runs/default/iter1
	cp iter0.st iter0/model.safetensors
	cp iter0.st iter2/model.st
	cp world/base.jsonl.zst iter3/train.jsonl.zst
	cp eval.jsonl.zst eval.zst
	cp eval.jsonl.zst iter1/eval.jsonl.zst
	cp pool.zst pool.embed.zst
	cp plan.zst iter1/plan.zst
	cp "$TESTS_DIR"/fixtures/formats/*.* .
	cp weak.zst runs/default/iter1/weak.jsonl.zst
) > fixtures.log 2>&1 || { cat fixtures.log >&2; echo "Bail out! the fixtures of the examples could not be made"; exit 1; }

perl "$STUB" --port-file stub.port --log stub.log &
STUB_PID=$!
i=0
while [ ! -s stub.port ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
STUB_URL=http://127.0.0.1:$(cat stub.port)/v1

# the one python command the examples run: vLLM's run_batch
mkdir shims
cat > shims/python <<SHIM
#!/bin/sh
[ "\$1" = -m ] && [ "\$2" = vllm.entrypoints.openai.run_batch ] ||
	{ echo "python: only vLLM's run_batch is stood in for here" >&2; exit 127; }
shift 2
exec perl "$TESTS_DIR/stand-in-run-batch.pl" "\$@"
SHIM
chmod +x shims/python

TYPES="scene_understanding instance_identity instance_attributes instance_location \
instances_counting spatial_relation instance_interaction visual_reasoning text_understanding"

# run_example PAGE N BLOCK: run one block in the page's directory
run_example() {
	page=$1 n=$2 block=$SCRATCH/$3 k=$(kind "$SCRATCH/$3")
	name="$page example $n ($k)"
	case $k in
	session)
		session_split "$block"
		script=$block.sh
		;;
	recipe)
		cp "$block" "$block.mk"
		target=$(head -1 "$block" | cut -d: -f1)
		printf 'make -s -B -f %s WORLD=world THREADS=1 SEED=1 TYPES="%s" %s\n' \
			"$block.mk" "$TYPES" "$target" > "$block.sh"
		script=$block.sh
		;;
	script)
		sed "s|http://localhost:8000/v1|$STUB_URL|g" "$block" > "$block.sh"
		script=$block.sh
		;;
	esac
	set +e
	(cd "$page.d" && env -u OPENAI_API_KEY OPENAI_BASE_URL="$STUB_URL" \
		XDG_CACHE_HOME="$SCRATCH/$page.d/.cache" PATH="$SCRATCH/shims:$PATH" \
		bash -e -o pipefail "$script") > "$block.out" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		ok 1 "$name runs"
		diag "status $rc; the example:" "$(cat "$script")" "its output (last lines):" \
			"$(tail -15 "$block.out")"
		return
	fi
	ok 0 "$name runs"
	[ "$k" = session ] || return 0
	while IFS= read -r shown; do
		case $shown in "" | "..." | *"\\") continue ;; esac
		re=$(pattern "$shown")
		like "$block.out" "$re" "$page example $n: shows what it prints: $shown"
	done < "$block.want"
}

for page in "$MAN"/*.1 "$MAN"/*.7; do
	p=$(basename "$page")
	cp -R "$FIX" "$p.d"
	nblocks=$(examples "$page" "$p.ex")
	is "$([ "$nblocks" -gt 0 ] && echo yes)" yes "$p has examples"
	j=1
	while [ "$j" -le "$nblocks" ]; do
		run_example "$p" "$j" "$p.ex/$j"
		j=$((j + 1))
	done
done

done_testing
