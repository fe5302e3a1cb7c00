#!/bin/sh
# mlde-gen --world-faults: the world backend's LLM mistakes at given rates,
# each kind known in the item's provenance and flagged by the world
# reviewer (tests/unit/test-review.c's --judge mode); off, nothing changes.
. "$(dirname "$0")/../lib.sh"
: "${MLDE_TESTBIN:?set MLDE_TESTBIN (make check does)}"
REVIEW=$MLDE_TESTBIN/test-review
cd "$SCRATCH"

mlde-world -q --seed 7 --out w --images 120 --base 10 --val 90 --test 9
zstdcat w/val.jsonl.zst | jq -c '. + {pred: ((.answer + 1) % (.options | length)), model: "fake", correct: false}' > eval.jsonl
mlde-weak -q eval.jsonl > weak.zst
mlde-sample -q --retrieval random --weak weak.zst --pool w/pool.jsonl.zst --budget 270 eval.jsonl > plans.zst
# pairs FILE: "plan question options answer fault" lines, sorted by plan
pairs() { jq -r '[.provenance.plan, .question, (.options | join("|")), .answer, (.provenance.fault // "-")] | @tsv' "$1" | sort; }

run mlde-gen -q --backend world -Z plans.zst
is "$status" 0 "fault-free: status 0"
cp out clean.jsonl
n=$(wc -l < clean.jsonl | tr -d ' ')
[ "$n" -ge 150 ] && ok 0 "fault-free: $n items" || ok 1 "fault-free: $n items"
is "$(jq -c 'select(.provenance | has("fault"))' clean.jsonl | wc -l | tr -d ' ')" 0 \
	"fault-free: no fault in the provenance"
"$REVIEW" --judge plans.zst clean.jsonl > clean.rev
is "$(jq -r .verdict clean.rev | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" "correct=$n " \
	"fault-free: the world reviewer finds every item correct"
is "$(jq -r '[.item, .reviewer] | @tsv' clean.rev | head -1 | cut -f2)" world "review records name the world reviewer"
jq -r .id clean.jsonl > ids.want
jq -r .item clean.rev > ids.got
same ids.got ids.want "one review record per item, in order"

run mlde-gen -q --backend world -Z --world-faults all=0 plans.zst
same out clean.jsonl "--world-faults all=0: the same bytes as without it"

# ---- one kind at a time, at rate 1 ----
for kind in wrong-answer absent-object other-type coordinates duplicate-options; do
	run mlde-gen -q --backend world -Z --rejects rej.jsonl --world-faults "$kind=1" plans.zst
	is "$status" 0 "$kind=1: status 0"
	cp out "$kind.jsonl"
	is "$(wc -l < "$kind.jsonl" | tr -d ' ')" "$n" "$kind=1: as many items as without faults (the parser takes them all)"
	is "$(jq -r 'select(.provenance.fault != "'"$kind"'") | .provenance.fault' "$kind.jsonl" | sort -u | tr '\n' ' ')" \
		"$([ "$kind" = absent-object ] && echo 'wrong-answer ' || :)" \
		"$kind=1: every item has the fault (or a wrong answer where the type cannot carry it)"
	"$REVIEW" --judge plans.zst "$kind.jsonl" > "$kind.rev"
	jq -r .provenance.fault "$kind.jsonl" > truth
	jq -r '.reason // "-"' "$kind.rev" > said
	missed=$(paste truth said | awk -F'\t' '$1 != $2' | wc -l | tr -d ' ')
	is "$missed" 0 "$kind=1: the reviewer gives every item its own fault as the reason"
done
# how each kind reads, as an LLM writes it
like coordinates.jsonl '"question":"[^"]*(at \([0-9.]+, [0-9.]+\)|at x=[0-9.]+, y=[0-9.]+|centered at \[[0-9.]+, [0-9.]+\])' \
	"coordinates: a position in the question"
is "$(jq -c 'select((.options | map(ascii_downcase) | unique | length) < (.options | length))' duplicate-options.jsonl | wc -l | tr -d ' ')" 0 \
	"duplicate-options: no two options the same text (the parser would reject them)"
like duplicate-options.jsonl '"(two|three|one|four)"|"the color [a-z]+"|"the letter [A-Z]"|"a (circle|square|triangle|cross)"' \
	"duplicate-options: a value in other words"
pairs clean.jsonl > clean.tsv
pairs wrong-answer.jsonl > wrong.tsv
is "$(paste clean.tsv wrong.tsv | awk -F'\t' '$1 != $6 || $2 != $7 || $3 != $8' | wc -l | tr -d ' ')" 0 \
	"wrong-answer: the same questions and options, only the answer moved"
is "$(paste clean.tsv wrong.tsv | awk -F'\t' '$4 == $9' | wc -l | tr -d ' ')" 0 \
	"wrong-answer: no answer left where it was"

# ---- a mix ----
run mlde-gen -q --backend world -Z --world-faults all=0.2 plans.zst
cp out mix.jsonl
faulty=$(jq -r 'select(.provenance.fault != null) | .id' mix.jsonl | wc -l | tr -d ' ')
[ "$faulty" -ge $((n / 10)) ] && [ "$faulty" -le $((n * 3 / 10)) ] && ok 0 "all=0.2: $faulty of $n faulty" ||
	ok 1 "all=0.2: $faulty of $n faulty"
is "$(jq -r '.provenance | has("fault")' mix.jsonl | sort -u)" true "all=0.2: every item says whether it is faulty"
pairs mix.jsonl | awk -F'\t' '$5 == "-"' | cut -f1-4 > kept.tsv
cut -f1-4 clean.tsv > clean4.tsv
is "$(grep -cvxFf clean4.tsv kept.tsv || :)" 0 "all=0.2: the items left correct are the fault-free run's"
run mlde-gen -q --backend world -Z --world-faults all=0.2 plans.zst
same out mix.jsonl "all=0.2: the same seed, the same bytes"
run mlde-gen -q --backend world -Z --seed 2 --world-faults all=0.2 plans.zst
holds "another --seed: other faults" not cmp -s out mix.jsonl

# the rates are in the request, so a cache keeps faulty and correct apart
run mlde-gen -q --backend world -Z --cache c --world-faults all=0.2 plans.zst
same out mix.jsonl "with --cache: the same faulty items"
run mlde-gen -q --backend world -Z --cache c plans.zst
same out clean.jsonl "the same cache, no faults: the fault-free items, not the cached faulty ones"

# ---- bad values ----
run mlde-gen --backend world --world-faults wrong=0.1 plans.zst
is "$status" 2 "an unknown kind: status 2"
like err "^mlde-gen: --world-faults: 'wrong' is no fault kind \(all, wrong-answer, " "... and says which kinds there are"
run mlde-gen --backend world --world-faults all=0.5,coordinates=0.7 plans.zst
is "$status" 2 "rates past 1: status 2"
like err "^mlde-gen: --world-faults: the rates add up to 1.1, more than 1" "... and says so"
run mlde-gen --backend world --world-faults wrong-answer=2 plans.zst
is "$status" 2 "a rate past 1: status 2"
like err "wrong-answer: '2' is no rate in 0..1" "... named"
run mlde-gen --world-faults all=0.2 --offline plans.zst
is "$status" 2 "--world-faults with the http backend: status 2"
like err "^mlde-gen: --world-faults: only with --backend world" "... and says so"
run mlde-gen --help
like out "^  --world-faults SPEC  world backend: make LLM mistakes" "--help lists --world-faults"
done_testing
