#!/bin/sh
# mlde-type from the command line, against the stub OpenAI server on
# 127.0.0.1: a batch typed, items with a type passed through untouched, the
# strict parse of a reply (a question missing, an unknown type, a number
# twice, garbage, stray lines), retries after a 500, --offline after a live
# run, the key never in any output, failures (exit 4) told by cause, and
# resume after kill -9 sending only what is missing.
. "$(dirname "$0")/../lib.sh"
STUB=$TESTS_DIR/stub-openai.pl
PROMPTS=$TESTS_DIR/../prompts
KEY=sk-mlde-type-test-91c4e07d2a
STUB_PIDS=
trap 'for p in $STUB_PIDS; do kill "$p" 2>/dev/null || :; done; rm -rf "$SCRATCH"' EXIT

start_stub() { stub_as=$1; shift; stub_start "$stub_as" --auth-log "$stub_as.auth" "$@"; }  # tests/lib.sh
stop_stub() { kill "$1" 2>/dev/null || :; wait "$1" 2>/dev/null || :; }
# q ID QUESTION [TYPE]: an item (TYPE "-": none)
q() {
	jq -nc --arg id "$1" --arg q "$2" --arg t "${3:--}" \
		'{id: $id, image: "img/\($id).png", question: $q, options: ["yes", "no"], answer: 0}
		 + (if $t == "-" then {} else {type: $t} end)'
}
# reply TEXT: the marker that makes the stub answer TEXT (printf escapes)
reply() { printf '@reply-b64=%s@' "$(printf "$1" | base64 -w0)"; }
sent() { awk '$4 == "ok"' "$1.log" | wc -l | tr -d ' '; }

start_stub s
S=$PID
T() { OPENAI_API_KEY=$KEY run mlde-type --base-url "$URL" --cache cache -Z "$@"; }

# ---- a good batch; typed items pass through untouched, in order ----
{
	q a1 "Where is the cat? $(reply '1\tspatial_relation\n2\tinstances_counting\n')"
	q a2 "How many dogs?"
	q a3 "Typed already" scene_understanding
	echo '{"id":"a4","image":"x.png","question":"Null type","options":["a","b"],"type":null}'
} > good.jsonl
T --batch 2 --rejects rej.jsonl good.jsonl
is "$status" 0 "a good batch: status 0"
is "$(jq -r '[.id, .type, (.type_source // "-")] | @tsv' out | tr '\t\n' ': ')" \
	"a1:spatial_relation:llm a2:instances_counting:llm a3:scene_understanding:- " \
	"typed, in input order; the typed item untouched"
unlike err "rejects not kept" "--rejects given: no warning that rejects are lost"
# a4 (type null, no answer) was asked in a second batch of one, whose reply
# (the stub's default, a generated question) types nothing
is "$(jq -r '[.plan, .reason] | @tsv' rej.jsonl)" "$(printf 'a4\tnot-typed')" \
	"a reply that types nothing: a reject record naming the item"
like err "4 items = 2 typed \+ 1 passed through \+ 1 rejected \+ 0 failed; 2 requests: sent 2" \
	"the summary: items = typed + passed + rejected + failed"
head -3 good.jsonl | tail -1 > a3.jsonl
jq -c 'select(.id == "a3")' out > a3.out
same a3.out a3.jsonl "an item with a type: byte for byte as it came"
is "$(jq '(.raw | type) == "string" and (.request_sha256 | length) == 64' rej.jsonl)" true \
	"the reject has the reply as raw and the request's sha256"

# without a batch size, the default (20) takes all of them in one request
n0=$(sent s)
T --rejects rej.jsonl good.jsonl
is "$(($(sent s) - n0))" 1 "the default batch: one request for three questions"

# ---- the strict parse ----
{
	q b1 "One $(reply '1\tspatial_relation\n3\tinstance_identity\n3\tinstance_location\n4\tmade_up\nthe end\n2 scene_understanding\n')"
	q b2 "Two"
	q b3 "Three"
	q b4 "Four"
	q b5 "Five"
} > parse.jsonl
T --batch 5 --rejects rej.jsonl parse.jsonl
is "$status" 0 "rejected questions are not failures: status 0"
is "$(jq -r '[.id, .type] | @tsv' out)" "$(printf 'b1\tspatial_relation')" "only the question typed once with a listed type is written"
is "$(jq -r '[.plan, .reason] | @tsv' rej.jsonl | tr '\t\n' ': ')" \
	"b2:not-typed b3:typed-twice b4:unknown-type b5:not-typed " \
	"a missing line ('2 TYPE' has no tab), a number twice, a type not listed, a number never given"
like rej.jsonl "'made_up' is not a type of [^ ]*prompts/types\\.json" "the unknown type named, and the types file"
like rej.jsonl '"question 3 of the batch: 2 lines name it"' "typed twice: said"

q g1 "Garbage $(reply 'I think these are all about spatial relations!')" > garbage.jsonl
q g2 "Second" >> garbage.jsonl
T --rejects rej.jsonl garbage.jsonl
is "$(cat out)" "" "garbage: no item written"
is "$(jq -r .reason rej.jsonl | sort -u)" "not-typed" "garbage: every question rejected, not-typed"
is "$(wc -l < rej.jsonl | tr -d ' ')" 2 "... one reject each"

# CR line ends and blank lines are fine; a tab inside the type is not
q c1 "CRLF $(reply '\r\n1\tvisual_reasoning\r\n\n2\ttext_understanding\tx\r\n')" > crlf.jsonl
q c2 "Second" >> crlf.jsonl
T --rejects rej.jsonl crlf.jsonl
is "$(jq -r '[.id, .type] | @tsv' out)" "$(printf 'c1\tvisual_reasoning')" "CR LF and blank lines: typed"
is "$(jq -r '[.plan, .reason] | @tsv' rej.jsonl)" "$(printf 'c2\tnot-typed')" "a second tab: not a line of the format"

# a types file of one's own: the names a reply may give
echo '{"colour": {"explain": "The colour of a thing."}, "count": {"title": "count"}}' > mytypes.json
q d1 "Mine $(reply '1\tcolour\n2\tspatial_relation\n')" > mine.jsonl
q d2 "Second" >> mine.jsonl
T --types mytypes.json --rejects rej.jsonl mine.jsonl
is "$(jq -r '[.id, .type] | @tsv' out)" "$(printf 'd1\tcolour')" "--types: its names are the list"
is "$(jq -r .reason rej.jsonl)" "unknown-type" "--types: a name of the default file is unknown here"
like err "^mlde-type: type 'count' has no explanation in mytypes.json: the prompt lists it bare$" \
	"a type without an explanation: a warning"
n0=$(sent s)
OPENAI_API_KEY=$KEY run mlde-type --emit prompt -Z --types mytypes.json --base-url "$URL" mine.jsonl
is "$(jq -r .ids[] out | tr '\n' ' ')" "d1 d2 " "--emit prompt: each batch's ids"
like out '"prompt":"You sort multiple-choice.*- colour: The colour of a thing\.\\n- count: count\\n' \
	"--emit prompt: the prompt lists the types file's names and explanations"
is "$(sent s)" "$n0" "--emit prompt sends nothing"

# --retype asks for typed items too
q e1 "Retype $(reply '1\tinstance_identity\n')" scene_understanding > retype.jsonl
T retype.jsonl
is "$(jq -r .type out)" "scene_understanding" "without --retype a typed item is not asked"
T --retype retype.jsonl
is "$(jq -r '[.type, .type_source] | @tsv' out)" "$(printf 'instance_identity\tllm')" "--retype: asked and retyped"

# ---- a 500, then success; failures for good: exit 4 by cause ----
q f1 "Flaky @fault=500@ $(reply '1\tinstance_attributes\n')" > flaky.jsonl
T --backoff 0.01 flaky.jsonl
is "$status:$(jq -r .type out)" "0:instance_attributes" "a 500 then success: typed"
like err "sent 2 \(1 retries" "... after one retry"
q h1 "Down @fault=500xalways@" > down.jsonl
q h2 "Also down" >> down.jsonl
T --backoff 0.01 --retries 1 --rejects rej.jsonl down.jsonl
is "$status" 4 "a request that fails for good: status 4"
is "$(jq -r '[.plan, .reason] | @tsv' rej.jsonl | tr '\t\n' ': ')" "h1:request-failed h2:request-failed " \
	"each of its questions a reject record (request-failed)"
like err "^mlde-type: 2 questions not typed: their requests failed for good$" "said"
like err "^mlde-type: why: .*500.* \(1 request\)" "and why, by cause"

# ---- --offline after a live run ----
T --batch 3 -o live.jsonl good.jsonl
n0=$(sent s)
run mlde-type --offline --base-url "$URL" --cache cache -Z --batch 3 good.jsonl
is "$status" 0 "--offline after a live run: status 0"
same out live.jsonl "--offline: the same items, from the cache"
is "$(sent s)" "$n0" "--offline sends nothing"
run mlde-type --offline --base-url "$URL" --cache empty-cache -Z --rejects rej.jsonl good.jsonl
is "$status" 4 "--offline with nothing cached: status 4"
like err "no reply in the cache, and --offline sends nothing" "... said why"
# the server is part of the cache key
run mlde-type --offline --base-url "http://127.0.0.1:1/v1" --cache cache -Z --batch 3 good.jsonl
is "$status" 4 "--offline with another server: nothing cached for it"

# ---- the key: never in any output ----
q k1 "Echo the key @fault=key@" > key.jsonl
OPENAI_API_KEY=$KEY run mlde-type --base-url "$URL" --cache kcache -Z --rejects krej.jsonl -v key.jsonl good.jsonl
holds "the key was sent" grep -q "$KEY" s.auth
for f in out err krej.jsonl; do
	holds "the key is not in $f" not grep -q -e "${KEY#sk-}" "$f"
done
holds "the key is not in the cache" not grep -rq -e "${KEY#sk-}" kcache
holds "nor 12 characters of its middle" not grep -rq -e "$(echo "$KEY" | cut -c8-19)" out err krej.jsonl kcache

# ---- bad input: FILE:LINE and the field ----
printf '%s\n{"id":"x","image":"a.png","options":["a","b"]}\n' "$(q z1 ok)" > bad.jsonl
T -o bad.out bad.jsonl
is "$status" 1 "an item without a question: status 1"
like err "^mlde-type: bad\.jsonl:2: field 'question'" "named by FILE:LINE and field"
holds "no output" not test -e bad.out
echo '{"image":"a.png","question":"Q","options":["a","b"]}' > noid.jsonl
T noid.jsonl
is "$status" 1 "an item without an id: status 1"
like err "noid\.jsonl:1: field 'id': missing" "... named"
run mlde-type --batch 0 good.jsonl
is "$status" 2 "--batch 0: usage"
run mlde-type --batch 201 good.jsonl
is "$status" 2 "--batch past 200: usage"
run mlde-type --emit raw good.jsonl
is "$status" 2 "--emit raw: usage"
echo '{}' > notypes.json
run mlde-type --emit prompt --types notypes.json good.jsonl
is "$status:$(cat err)" "1:mlde-type: notypes.json: no types to choose from" "an empty types file: status 1"

# ---- kill -9, then resume sending only what is missing ----
i=0
while [ "$i" -lt 100 ]; do q "r$i" "Question $i $(reply '1\tinstance_location\n')"; i=$((i + 1)); done > big.jsonl
start_stub held --delay 0.005 --hold-after 40
HELD=$PID
HELD_PORT=$PORT
OPENAI_API_KEY=$KEY mlde-type -q --batch 1 -j 8 --timeout 60 --base-url "$URL" --cache rcache \
	-o typed.zst --rejects rrej.zst big.jsonl 2> kill.err &
TY=$!
i=0
while [ "$(find rcache -type f ! -name '.*' 2>/dev/null | wc -l)" -lt 40 ] && [ "$i" -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.2
kill -9 "$TY"
wait "$TY" 2>/dev/null || :
is "$(find rcache -type f ! -name '.*' | wc -l | tr -d ' ')" 40 "killed with 40 replies stored"
holds "no output after kill -9" not test -e typed.zst
stop_stub "$HELD"
start_stub resumed --port "$HELD_PORT"
OPENAI_API_KEY=$KEY run mlde-type --batch 1 -j 8 --base-url "$URL" --cache rcache \
	-o typed.zst --rejects rrej.zst big.jsonl
is "$status" 0 "the rerun: status 0"
like err "100 items = 100 typed \+ 0 passed through \+ 0 rejected \+ 0 failed; 100 requests: sent 60 \(0 retries, 0 throttled\), from cache 40" \
	"the rerun sends the 60 missing, takes 40 from the cache"
is "$(zstdcat typed.zst | jq -r .id | tr '\n' ' ')" "$(jq -r .id big.jsonl | tr '\n' ' ')" "every item once, in order"
cat held.log resumed.log | awk '$4 == "ok" { print $2 }' | sort | uniq -d > twice
is "$(wc -l < twice | tr -d ' ')" 0 "no request answered twice"
stop_stub "$PID"
stop_stub "$S"

done_testing
