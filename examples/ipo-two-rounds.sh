#!/bin/sh
# examples/ipo-two-rounds.sh [DIR]: Interactive Prompt Optimization by hand,
# two rounds.  The generation prompt (prompts/default.txt, copied into
# DIR/prompts, so the repository's own is never touched) goes through
#
#   round 1  generate with default      review in a browser  refine -> default.v1
#   round 2  generate with default.v1   review in a browser  refine -> default.v2
#   round 3  generate with default.v2   review in a browser
#
# then `mlde-prompt score` and `mlde-prompt log` give the correctness of
# each version with its 95% Wilson interval, and whether a version is better
# than the one before it by more than noise.
#
# The data: the world backend with faults (mlde-gen --world-faults: the
# mistakes LLM generators make, at FAULTS, default all=0.2), over a small
# embedded world; set GEN_FLAGS to generate with an LLM instead (e.g.
# GEN_FLAGS="--backend http --base-url URL --model NAME", the key in
# OPENAI_API_KEY).  The world backend does not read the prompt: its items are
# as faulty with every version, so here the versions' correctness differs by
# noise only; with an LLM the prompt is what changes.
#
# Each round's review is on a page served on 127.0.0.1: open the address it
# prints, judge each item with y (correct), n (wrong, with a reason: what is
# wrong, in a few words), s (skip), and press q when done.  Your verdicts go
# to DIR/reviews.jsonl at once; the world reviewer's (which knows the true
# answers) go to DIR/world-reviews.jsonl beside them, to set your judgement
# against.  A rerun of the script goes on where it stopped: a round whose
# items are generated is not generated again, and its review resumes.
#
# The refinement asks an LLM: LLM_FLAGS (e.g. "--base-url URL --model NAME",
# the key in OPENAI_API_KEY).  Without it, a stand-in on 127.0.0.1
# (tests/stub-openai.pl) answers with the current prompt and one rule more,
# made from the reason given most often in the round's reviews, and a
# changelog saying so.  refine shows the changelog and the diff and asks:
# y accepts, e edits the new version in $EDITOR, n declines (ACCEPT=yes
# accepts without asking).
#
#   sh examples/ipo-two-rounds.sh runs/ipo          (after make)
#
# Environment: MLDE_BIN (default bin), FAULTS, GEN_FLAGS, LLM_FLAGS, ACCEPT,
# BUDGET (plan requests a round, default 40), REVIEWER (default $USER),
# REVIEW_DRIVER (a command run with the page's address and the round, in
# place of a person: tests/browser/two-rounds.t drives the page so).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${MLDE_BIN:-$root/bin}" && pwd)
PATH=$BIN:$PATH
DIR=${1:-runs/ipo-two-rounds}
FAULTS=${FAULTS:-all=0.2}
GEN_FLAGS=${GEN_FLAGS:---backend world --world-faults $FAULTS}
BUDGET=${BUDGET:-40}
REVIEWER=${REVIEWER:-${USER:-me}}
mkdir -p "$DIR"
cd "$DIR"
SERVE_PID= STUB_PID=
trap '[ -z "$SERVE_PID" ] || kill "$SERVE_PID" 2>/dev/null; [ -z "$STUB_PID" ] || kill "$STUB_PID" 2>/dev/null' EXIT

# the world (images and their annotations) and the plans of each round:
# requests for items of the types a model with every val item wrong is
# weak at, about pool images drawn at random
if [ ! -d world ]; then
	mlde-world -q --seed 7 --out world.tmp --images 200 --base 10 --val 90 --test 9
	mv world.tmp world
fi
if [ ! -f eval.jsonl ]; then
	zstd -dc world/val.jsonl.zst | jq -c '. + {pred: 0, model: "none", correct: false}' > eval.jsonl.tmp
	mv eval.jsonl.tmp eval.jsonl
fi
[ -d prompts ] || cp -r "$root/prompts" prompts

# round R PROMPT: generate with PROMPT, the world reviewer's verdicts, the
# person's review
round() {
	r=$1 prompt=$2
	if [ ! -f "items-$r.jsonl" ]; then
		[ -f weak.zst ] || mlde-weak -q -o weak.zst eval.jsonl
		mlde-sample -q --retrieval random --seed "$r" --weak weak.zst --pool world/pool.jsonl.zst \
			--budget "$BUDGET" -o "plans-$r.zst" eval.jsonl
		# shellcheck disable=SC2086
		mlde-gen -q $GEN_FLAGS --seed "$r" --prompt "$prompt" -Z -o "items-$r.jsonl.tmp" "plans-$r.zst"
		mv "items-$r.jsonl.tmp" "items-$r.jsonl"
	fi
	echo "round $r: $(wc -l < "items-$r.jsonl" | tr -d ' ') items generated with $prompt (items-$r.jsonl)"
	mlde-prompt judge -q --world "plans-$r.zst" -o world-reviews.jsonl "items-$r.jsonl"

	rm -f "serve-$r.err"
	mlde-prompt review --serve --images world --reviewer "$REVIEWER" -o reviews.jsonl "items-$r.jsonl" \
		2> "serve-$r.err" &
	SERVE_PID=$!
	i=0
	while ! grep -q 'review page at' "serve-$r.err" 2>/dev/null && [ "$i" -lt 200 ]; do
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	url=$(grep -o 'http://127.0.0.1:[0-9]*/' "serve-$r.err" || :)
	[ -n "$url" ] || { cat "serve-$r.err" >&2; exit 1; }
	if [ -n "${REVIEW_DRIVER:-}" ]; then
		$REVIEW_DRIVER "$url" "$r"
	else
		echo "round $r: review the items at $url  (y correct, n wrong + reason, s skip, q when done)"
	fi
	wait "$SERVE_PID"
	SERVE_PID=
}

# refine R PROMPT: the next version of PROMPT from round R's reviews; its
# file name on stdout
refine() {
	r=$1 prompt=$2
	yes=
	[ "${ACCEPT:-}" = yes ] && yes=--yes
	if [ -n "${LLM_FLAGS:-}" ]; then
		# shellcheck disable=SC2086
		mlde-prompt refine $yes $LLM_FLAGS --prompt "$prompt" --items "items-$r.jsonl" reviews.jsonl >&2
	else
		version=$(basename "$prompt" .txt)
		reason=$(jq -r --arg v "$version" 'select(.prompt_version == $v and .verdict == "wrong") | .reason' \
			reviews.jsonl | sort | uniq -c | sort -k1,1nr -k2 | head -1 | sed 's/^ *[0-9]* //')
		[ -n "$reason" ] || { echo "round $r: no item of $version was judged wrong: nothing to refine from" >&2; exit 1; }
		rules=$(grep -c '^[0-9][0-9]*\. ' "$prompt" || :)
		rule="$((rules + 1)). Before you reply, check that what you wrote cannot be faulted so: $reason."
		{
			printf '<changelog>\n- rule %d added, from the reason given most often in the review: %s\n</changelog>\n' \
				"$((rules + 1))" "$reason"
			printf '<prompt>\n'
			# the new rule after the last one
			awk -v rule="$rule" -v n="$rules" '{ print } /^[0-9]+\. / && ++k == n { print rule }' "$prompt"
			printf '</prompt>\n'
		} > "stand-in-reply-$r.txt"
		rm -f stand-in.port
		perl "$root/tests/stub-openai.pl" --port-file stand-in.port --log stand-in.log \
			--reply "$(cat "stand-in-reply-$r.txt")" &
		STUB_PID=$!
		i=0
		while [ ! -s stand-in.port ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
		OPENAI_API_KEY=sk-stand-in mlde-prompt refine $yes --base-url "http://127.0.0.1:$(cat stand-in.port)/v1" \
			--cache cache --prompt "$prompt" --items "items-$r.jsonl" reviews.jsonl >&2
		kill "$STUB_PID"
		wait "$STUB_PID" 2>/dev/null || :
		STUB_PID=
	fi
	# the version just written: the lineage's last record, whose parent is PROMPT
	file=$(jq -r --arg p "$(basename "$prompt" .txt)" 'select(.parent == $p) | .file' prompts/default.lineage.jsonl | tail -1)
	[ -n "$file" ] || { echo "round $r: no new version of $prompt was accepted" >&2; exit 1; }
	echo "prompts/$file"
}

# a round whose version was refined before goes on with that version
next_of() {
	[ -f prompts/default.lineage.jsonl ] || return 0
	jq -r --arg p "$(basename "$1" .txt)" 'select(.parent == $p) | .file' prompts/default.lineage.jsonl | tail -1
}

p=prompts/default.txt
for r in 1 2 3; do
	round "$r" "$p"
	[ "$r" -lt 3 ] || break
	done_before=$(next_of "$p")
	if [ -n "$done_before" ]; then
		p=prompts/$done_before
	else
		p=$(refine "$r" "$p")
	fi
	echo "round $r: the next version is $p"
done

echo
echo "Correctness per prompt version, by $REVIEWER (mlde-prompt score --tsv reviews.jsonl):"
mlde-prompt score -q --tsv --reviewer "$REVIEWER" reviews.jsonl | awk -F '\t' 'NR == 1 || $2 == "all"'
echo
echo "The same by the world reviewer, which knows the true answers:"
mlde-prompt score -q --tsv world-reviews.jsonl | awk -F '\t' 'NR == 1 || $2 == "all"'
echo
echo "The lineage (mlde-prompt log --prompt prompts/default.txt reviews.jsonl):"
mlde-prompt log --reviewer "$REVIEWER" --prompt prompts/default.txt reviews.jsonl
