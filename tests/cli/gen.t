#!/bin/sh
# mlde-gen from the command line: templates, the world backend on plan
# records made from a mlde-world pool, the original pipeline's GPT-4 replies,
# every rejection reason, and the http backend against a stub server with
# scripted faults: retries, failures, rate limits, the key, the cache,
# --offline, and resume after kill -9.
. "$(dirname "$0")/../lib.sh"
STUB=$TESTS_DIR/stub-openai.pl
PROMPTS=$TESTS_DIR/../prompts
FIX=$TESTS_DIR/fixtures/original-pipeline
KEY=sk-mlde-test-7f3a9c1e5b
STUB_PIDS=
trap 'for p in $STUB_PIDS; do kill "$p" 2>/dev/null || :; done; rm -rf "$SCRATCH"' EXIT

# start_stub NAME [ARGS]: a stub server logging to NAME.log; sets PORT, PID
start_stub() { stub_as=$1; shift; stub_start "$stub_as" --auth-log "$stub_as.auth" "$@"; }  # tests/lib.sh
stop_stub() { kill "$1" 2>/dev/null || :; wait "$1" 2>/dev/null || :; }
# plan ID [FIELD=JSON...]: a minimal plan record
plan() {
	id=$1
	shift
	jq -nc --arg id "$id" '{id: $id, type: "spatial_relation", query: {image: "img/\($id).png", captions: ["c"], objects: []}, examples: []}'
}
# echo_plan ID TEXT: a plan whose reply the stub echoes
echo_plan() { jq -nc --arg id "$1" --arg r "$2" '{id: $id, type: "x", query: {image: "x.png"}, reply: $r}'; }
ids() { jq -r "$1" "$2" | tr '\n' ' '; }
printf '%s\n' 'plan {{ .id }} {{ .mark // "" }}' > t.txt
printf '%s\n' 'plan {{ .id }} @reply-b64={{ .reply | @base64 }}@' > echo.txt

# ---- command line and templates ----
plan p1 > one.jsonl
run mlde-gen --backend nowhere one.jsonl
is "$status" 2 "--backend nowhere: usage status"
run mlde-gen --emit everything one.jsonl
is "$status" 2 "--emit everything: usage status"
run mlde-gen -j 0 one.jsonl
is "$status" 2 "-j 0: usage status"
printf 'ok {{ .id }}\n\nbad {{ .id | ]] }}\n' > bad.txt
run mlde-gen --emit prompt --prompt bad.txt one.jsonl
is "$status" 1 "a template that does not compile: status 1"
like err "^mlde-gen: bad.txt:3: jq: syntax error" "the error names the template's file and line, and jq's message"
printf 'a {{ .id }}\nb {{ .query.captions[0] + 1 }}\n' > rt.txt
run mlde-gen --emit prompt --prompt rt.txt one.jsonl
is "$status" 1 "a hole that fails on a record: status 1"
like err "^mlde-gen: one.jsonl:1: plan p1: rt.txt:2: jq: " "... naming the record and the hole's line"
# many plans: read ahead, their prompts rendered on a second thread too,
# yet written in plan order, and an error told where it stands (a hole
# that fails on plan 150 before a bad line 180 read ahead of it)
for i in $(seq 1 200); do plan "p$i"; done > many.jsonl
run mlde-gen -Z --emit prompt --prompt t.txt many.jsonl
is "$status:$(jq -r .plan out | tr '\n' ' ')" "0:$(seq -f 'p%g' 1 200 | tr '\n' ' ')" \
	"200 plans rendered ahead: every prompt, in plan order"
is "$(jq -c .prompt out | sort -u | wc -l)" 200 "... each its own plan's"
printf '%s\n' '{{ .id }} {{ if .id == "p150" then error("no \(.id)") else empty end }}' > p150.txt
sed '180s/.*/{"id": /' many.jsonl > many-bad.jsonl
run mlde-gen --emit prompt --prompt p150.txt many-bad.jsonl
is "$status:$(cat err)" "1:mlde-gen: many-bad.jsonl:150: plan p150: p150.txt:1: jq: no p150" \
	"a hole failing on plan 150 is told, not the bad line 180 read ahead of it"
run mlde-gen -Z --emit prompt --prompt t.txt -o many-bad.out many-bad.jsonl
is "$status" 1 "a bad line 180 read ahead: status 1"
like err "^mlde-gen: many-bad.jsonl:180: " "... told once the plans before it are in"
[ ! -e many-bad.out ] && ok 0 "... with nothing written" || ok 1 "... with nothing written"
run mlde-gen --emit prompt --prompt nonexistent.txt one.jsonl
is "$status" 3 "a missing template: I/O status"
echo '{"id":"p","query":{"image":"x"}}' > notype.jsonl
run mlde-gen --emit prompt --prompt t.txt notype.jsonl
is "$status:$(cat err)" "1:mlde-gen: notype.jsonl:1: field 'type': missing" "a plan record without a type"
cat one.jsonl notype.jsonl > mixed.jsonl
run mlde-gen --backend world --prompt t.txt -o o.zst --rejects r.zst mixed.jsonl
is "$status:$(ls o.zst* r.zst* 2>/dev/null | tr '\n' ' ')" "1:" "a bad record mid-run: no output, no FILE.tmp left"
echo '{"id":"p","type":"t","query":{}}' > noimage.jsonl
run mlde-gen --emit prompt --prompt t.txt noimage.jsonl
like err "noimage.jsonl:1: field 'query.image': missing" "a query without an image"

# ---- world backend: plan records from a mlde-world pool, through mlde-sample ----
mlde-world -q --seed 5 --out w --images 80 --base 10 --val 90 --test 9
zstdcat w/val.jsonl.zst | jq -c '. + {pred: (if input_line_number % 3 == 0 then .answer
	else (.answer + 1) % (.options | length) end), model: "fake"} | . + {correct: (.pred == .answer)}' > eval.jsonl
mlde-weak -q eval.jsonl > weak.zst
mlde-sample -q --retrieval random --weak weak.zst --pool w/pool.jsonl.zst --budget 120 eval.jsonl > plans.zst
run mlde-gen --emit prompt -Z --prompt "$PROMPTS/default.txt" plans.zst
is "$status" 0 "--emit prompt with the default template: status 0"
is "$(wc -l < out | tr -d ' ')" 120 "one prompt per plan record"
jq -r .prompt out | awk '/^Question: /' | head -1 > ex.txt
like ex.txt "^Question: " "prompts show the in-context bad cases"
jq -r 'select(.plan | startswith("spatial_relation")) | .prompt' out | head -40 > p.txt
like p.txt "^The question type: spatial relation\. Where one object is relative to another" "the type's explanation comes from types.json"
like p.txt "^- (circle|square|triangle|cross) \[[0-9.]+, [0-9.]+, [0-9.]+, [0-9.]+\] \(color: " "objects with their boxes and attributes"
like p.txt "^Choices: \(A\) " "the reply format is asked for"
is "$(jq -r .prompt_sha256 out | sort -u | wc -l | tr -d ' ')" 1 "one prompt sha256 for the run"
like p.txt "^Objects, each with its box " "the objects under their header"
# a scene with no shapes: no "Objects" header with nothing under it
zstdcat plans.zst | head -1 | jq -c '.query.objects = [] | .query.captions = ["A letter."]' > noobj.jsonl
mlde-gen -q --emit prompt -Z --prompt "$PROMPTS/default.txt" noobj.jsonl | jq -r .prompt > noobj.txt
is "$(grep -c '^Objects' noobj.txt)" 0 "no objects: no Objects header"
like noobj.txt "^- A letter\.$" "no objects: the captions are still there"
cp out prompts1.jsonl
MLDE_PROMPTS=$PROMPTS run mlde-gen --emit prompt -Z plans.zst
same out prompts1.jsonl "\$MLDE_PROMPTS finds the default template"

run mlde-gen --backend world -Z --rejects wrej.jsonl plans.zst
is "$status" 0 "world backend: status 0"
cp out witems.jsonl
is "$(($(wc -l < witems.jsonl) + $(wc -l < wrej.jsonl)))" 120 "world: items + rejects = plan records"
like err "^mlde-gen: 120 plan records = [0-9]+ items \+ [0-9]+ rejected \+ 0 failed" "world: the summary says so"
[ "$(wc -l < witems.jsonl)" -ge 60 ] && ok 0 "world: most plans give an item" || ok 1 "world: most plans give an item"
zstdcat w/pool.jsonl.zst | jq -r .image | sort > pool-images
bad=$(jq -c 'select((.options | length) < 2 or (.options | length) > 8 or .answer < 0
	or .answer >= (.options | length) or (.question | length) == 0 or (.options | unique | length) != (.options | length)
	or .source != "mlde-gen" or .provenance.backend != "world" or (.type as $t | .provenance.plan | startswith($t) | not))' witems.jsonl | wc -l)
is "$bad" 0 "world: every item is valid (2-8 distinct options, answer in range, type of its plan)"
jq -r .image witems.jsonl | sort -u | comm -23 - pool-images > stray
is "$(cat stray)" "" "world: every item's image is a pool image"
zstdcat plans.zst | jq -r '.id' > plan-ids
cat witems.jsonl wrej.jsonl | jq -r '.provenance.plan // .plan' | sort > got-ids
sort plan-ids > sorted-ids
same got-ids sorted-ids "world: every plan id once across items and rejects"
jq -r '.provenance.plan' witems.jsonl > w-ids
grep -Fxf w-ids plan-ids > w-order
same w-ids w-order "world: items in plan order"
is "$(jq -r .reason wrej.jsonl | sort -u | tr '\n' ' ')" "skip " "world: rejects are Skip replies (the scene cannot carry the type)"
run mlde-gen --backend world -Z --rejects wrej2.jsonl plans.zst
same out witems.jsonl "world: the same plans give the same bytes"

# ---- the original pipeline's GPT-4 replies, through the stub ----
start_stub echo
ECHO_PID=$PID
BASE=http://127.0.0.1:$PORT/v1
jq -c '.[] | {id: "train-\(.image_id)", type: .question_type, query: {image: "coco/\(.image_id).jpg"}, reply: .raw_instructions}' \
	"$FIX/gptvqa_train_data.json" > fx.jsonl
jq -c '{id: "result-\(.image_id)", type: .question_type, query: {image: "coco/\(.image_id).jpg"}, reply: .raw_instructions}' \
	"$FIX/gptvqa_result.jsonl" >> fx.jsonl
OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt echo.txt --cache cache-fx --base-url "$BASE" --rejects fxrej.jsonl fx.jsonl
is "$status" 0 "fixture replies: status 0"
jq -c '.[] | [.question, .choices, .correct_choice_idx]' "$FIX/gptvqa_train_data.json" > want.jsonl
jq -c 'select(.id | startswith("train-")) | [.question, .options, .answer]' out > got.jsonl
same got.jsonl want.jsonl "the two replies of gptvqa_train_data.json parse as the original did"
is "$(jq -r 'select(.id | startswith("result-")) | .answer' out | tr '\n' ' ')" "1 1 2 " "the three replies of gptvqa_result.jsonl parse"
is "$(jq -r 'select(.provenance.plan == "result-84124") | .options[3]' out)" "On the floor" "trailing blanks dropped"
is "$(jq -r 'select(.provenance.plan == "train-407348") | .rationale | test("\\[0")' out)" "false" "boxes removed from the rationale"
is "$(jq -r .provenance.model out | sort -u)" "stub-model" "provenance names the model that answered"

# every rejection reason: the plan id names the reason expected
: > rc.jsonl
r() { echo_plan "$1@$(wc -l < rc.jsonl | tr -d ' ')" "$2" >> rc.jsonl; }
r skip "Skip. The picture holds no text."
r skip "Question: Skip
Explanation: nothing to count."
r no-question "The picture shows a red ball on a table."
r too-few-choices "Question: What is it?
Choices: (A) a ball
Answer: (A)"
r too-many-choices "Question: What is it?
Choices: (A) a (B) b (C) c (D) d (E) e (F) f (G) g (H) h (I) i
Answer: (A)"
r duplicate-choices "Question: What colour?
Choices: (A) red (B) blue (C) Red.
Answer: (A)"
r empty-choice "Question: Which?
Choices: (A) [0.1, 0.2, 0.3, 0.4] (B) the cup
Answer: (B)"
r no-answer "Question: What colour?
Choices: (A) red (B) blue
Explanation: it is red."
r no-answer "Question: What colour?
Choices: (A) red (B) blue
Answer: I cannot tell."
r answer-not-a-choice "Question: What colour?
Choices: (A) red (B) blue
Answer: The answer is (E): green."
r answer-mismatch "Question: What colour?
Choices: (A) red (B) blue (C) green
Answer: The answer is (A): green."
r mentions-bounding-box "Question: What is inside the bounding box?
Choices: (A) a cat (B) a dog
Answer: (A)"
r mentions-coordinates "Question: What is it?
Choices: (A) a cat (B) a dog
Answer: (A)
Explanation: The coordinates of the cat show it."
r mentions-description "Question: What is it?
Choices: (A) a cat (B) a dog
Answer: (A)
Explanation: The description mentions a cat."
OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt echo.txt --cache cache-fx --base-url "$BASE" --rejects rcrej.jsonl rc.jsonl
is "$status:$(wc -l < out | tr -d ' ')" "0:0" "rejection cases: status 0, no items"
is "$(wc -l < rcrej.jsonl | tr -d ' ')" "$(wc -l < rc.jsonl | tr -d ' ')" "every case rejected"
is "$(jq -r 'select((.plan | split("@")[0]) != .reason) | "\(.plan): \(.reason)"' rcrej.jsonl)" "" "each with its reason"
is "$(jq -r 'select(.raw == null or .detail == "") | .plan' rcrej.jsonl)" "" "rejects keep the raw reply and a detail"
like err "^mlde-gen: 14 plan records = 0 items \+ 14 rejected \+ 0 failed \(skip 2, " "the summary counts the reasons"
is "$(find cache-fx -type f ! -name '.*' | wc -l | tr -d ' ')" 19 "rejected replies are cached too: stored before parsing"
n_before=$(wc -l < echo.log)
OPENAI_API_KEY=$KEY run mlde-gen -Z --emit raw --prompt echo.txt --cache cache-fx --base-url "$BASE" fx.jsonl
is "$(wc -l < echo.log)" "$n_before" "--emit raw from the cache: nothing sent"
is "$(jq -r '.raw' out | grep -c '^Question: ')" 5 "--emit raw: the reply texts"
stop_stub "$ECHO_PID"

# ---- faults ----
start_stub faults --delay 0.02 --retry-after 1 --slow 2.5
FAULT_PID=$PID
BASE=http://127.0.0.1:$PORT/v1
: > f.jsonl
for i in 1 2 3 4 5 6; do plan "ok$i" >> f.jsonl; done
fp() { jq -nc --arg id "$1" --arg m "@fault=$2@" '{id: $id, type: "t", query: {image: "x.png"}, mark: $m}' >> f.jsonl; }
fp f429 429
fp f500 500x2
fp f503 503xalways
fp fslow slow
fp fbadjson badjson
fp ftrunc truncated
fp freset reset
fp fnull nocontent
fp f400 400
fp fkey key
printf '%s\n' 'plan {{ .id }} {{ .mark // "" }} env={{ env.OPENAI_API_KEY // "unset" }}' > tf.txt
OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt tf.txt --cache cache-f --base-url "$BASE" -j 4 \
	--timeout 1 --retries 2 --backoff 0.1 --rejects frej.jsonl f.jsonl
is "$status" 4 "faults: status 4 (some requests failed for good)"
cp out fitems.jsonl
is "$(ids .provenance.plan fitems.jsonl)" "ok1 ok2 ok3 ok4 ok5 ok6 f429 f500 fslow fbadjson ftrunc freset fnull " \
	"429, 500, a timeout, bad JSON, a truncated body, a reset, null content: retried to success, in plan order"
is "$(jq -r '"\(.plan) \(.reason) \(.raw)"' frej.jsonl | tr '\n' ' ')" \
	"f503 request-failed null f400 request-failed null fkey request-failed null " \
	"503 every time, 400, and a reply holding the key: failures, reported"
like frej.jsonl '"detail":"HTTP 503: stub fault 503 \(3 attempts\)"' "the failure says what and how often"
like err "^mlde-gen: 16 plan records = 13 items \+ 0 rejected \+ 3 failed" "faults: items + rejects + failures = plan records"
like err "sent [0-9]+ \([0-9]+ retries, 1 throttled\)" "the summary counts retries and 429s"
t429=$(awk '$4 == "429" { print $1 }' faults.log)
sha429=$(awk '$4 == "429" { print $2 }' faults.log)
tretry=$(awk -v s="$sha429" '$2 == s && $3 == 2 { print $1 }' faults.log)
is "$(echo "$t429 $tretry" | awk '{ print ($2 - $1 >= 0.95) ? "yes" : "no: " $2 - $1 }')" yes "the retry after a 429 waited its Retry-After (1 s)"
is "$(awk '$4 == "400" || $4 == "key"' faults.log | wc -l | tr -d ' ')" 2 "400 and the key reply: not retried"
is "$(awk -v s="$(awk '$4 == "503" { print $2; exit }' faults.log)" '$2 == s' faults.log | wc -l | tr -d ' ')" 3 "503: 1 + --retries 2 attempts"
# the key
is "$(grep -c "auth=yes key_in_body=0" faults.log)" "$(grep -c ' path=' faults.log)" "every request carried the key in its header and not in its body"
is "$(sort -u faults.auth | awk '{ print $2, $3 }' | sort -u)" "Bearer $KEY" "the header is 'Authorization: Bearer KEY'"
grep -rlF "$KEY" out err frej.jsonl fitems.jsonl cache-f cache-fx > leaks || :
is "$(cat leaks)" "" "the key is in no output, log, rejects or cache file"
OPENAI_API_KEY=$KEY run mlde-gen -Z --emit prompt --prompt tf.txt f.jsonl
is "$(jq -r .prompt out | grep -c 'env=unset$')" 16 "templates cannot read OPENAI_API_KEY from the environment"
printf '%s\n' "$KEY" > keyfile
jq -nc '{id: "f401", type: "t", query: {image: "x.png"}, mark: "@fault=401xalways@"}' > f401.jsonl
run mlde-gen -Z --prompt tf.txt --cache cache-401 --base-url "$BASE" --api-key-file keyfile --retries 1 --backoff 0.05 f401.jsonl
is "$status" 4 "401: status 4, the run stops"
like err "HTTP 401: stub fault 401 \(check OPENAI_API_KEY or --api-key-file\)" "401: said, with a hint"
grep -lF "$KEY" out err > leaks || :
is "$(cat leaks)" "" "401: the key is not in the message"
is "$(awk '{ print $2, $3 }' faults.auth | sort -u)" "Bearer $KEY" "--api-key-file: the same header"
{ plan f401ok; cat f401.jsonl; plan f401after; } > f401b.jsonl
run mlde-gen -Z --prompt tf.txt --cache cache-401b --base-url "$BASE" --api-key-file keyfile --retries 1 --backoff 0.05 \
	-j 1 -o o401.jsonl --rejects r401.jsonl f401b.jsonl
is "$status" 4 "401 with -o and --rejects: status 4"
like err "HTTP 401: stub fault 401 \(check OPENAI_API_KEY or --api-key-file\)" "... with the key hint"
is "$(ls o401.jsonl* r401.jsonl* 2>/dev/null | tr '\n' ' ')" "" "... and no output or FILE.tmp of -o or --rejects left"

# ---- cache: rerun, offline, damage ----
head -16 f.jsonl > f16.jsonl
n_before=$(wc -l < faults.log)
OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt tf.txt --cache cache-f --base-url "$BASE" --retries 1 --backoff 0.05 \
	--rejects frej2.jsonl f16.jsonl
n_after=$(wc -l < faults.log)
cp out rerun.jsonl
jq -r .request_sha256 frej.jsonl | cut -c1-16 | sort > failed-shas
tail -n +$((n_before + 1)) faults.log | awk '{ print $2 }' | sort -u > resent-shas
same resent-shas failed-shas "a rerun sends only what has no stored reply (the 3 failures)"
is "$(ids .provenance.plan rerun.jsonl)" "ok1 ok2 ok3 ok4 ok5 ok6 f429 f500 fslow fbadjson ftrunc freset fnull f400 fkey " \
	"... which now get their answers, merged in plan order"
run mlde-gen -Z --offline --prompt tf.txt --cache cache-f --base-url "$BASE" --rejects frej3.jsonl f16.jsonl
is "$status" 4 "--offline: a reply not in the cache is a failure: status 4"
same out rerun.jsonl "--offline: the same items, byte for byte, with nothing sent"
is "$(jq -r '"\(.plan) \(.reason)"' frej3.jsonl | tr '\n' ' ')" "f503 not-cached " "--offline: the missing reply is reported"
is "$(wc -l < faults.log)" "$n_after" "--offline: nothing sent"
entry=$(find cache-f -type f ! -name '.*' | head -1)
printf '{"trunc' > "$entry"
OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt tf.txt --cache cache-f --base-url "$BASE" --retries 0 f16.jsonl
like err "cache entry [0-9a-f]{64} unusable .*asking again" "a damaged cache entry is asked again"
is "$(head -c 1 "$entry")" "{" "... and replaced"
jq -e . "$entry" > /dev/null && ok 0 "the new entry is whole JSON" || ok 1 "the new entry is whole JSON"

# ---- rate limit: the arithmetic is tests/unit/test-ratelimit.c's; here, that
# the options reach the limiter and it holds requests back ----
: > rl.jsonl
for i in 1 2 3 4 5 6; do plan "rl$i" >> rl.jsonl; done
n0=$(wc -l < faults.log)
OPENAI_API_KEY=$KEY run mlde-gen -v -Z --prompt t.txt --cache cache-rl --base-url "$BASE" -j 8 --rpm 240 rl.jsonl
is "$status:$(($(wc -l < faults.log) - n0))" "0:6" "--rpm 240: all 6 requests sent and answered"
like err "^mlde-gen: --rpm/--tpm held back [12] of 6 requests$" "--rpm 240: those past the burst of 4 were held back"
n0=$(wc -l < faults.log)
OPENAI_API_KEY=$KEY run mlde-gen -v -Z --prompt t.txt --cache cache-rl2 --base-url "$BASE" -j 8 --max-tokens 10 --tpm 6000 rl.jsonl
is "$status:$(($(wc -l < faults.log) - n0))" "0:6" "--tpm 6000: all 6 requests sent and answered"
like err "^mlde-gen: --rpm/--tpm held back [1-5] of 6 requests$" "--tpm 6000 (a bucket of 100 tokens, about 37 a request): requests held back"
OPENAI_API_KEY=$KEY run mlde-gen -v -Z --prompt t.txt --cache cache-rl3 --base-url "$BASE" -j 8 --rpm 1000000 --tpm 1000000000 rl.jsonl
like err "^mlde-gen: --rpm/--tpm held back 0 of 6 requests$" "limits far above the need hold nothing back"

# ---- the progress line: wiped before every message ----
: > pr.jsonl
for i in $(seq 1 24); do plan "pr$i" >> pr.jsonl; done
head -1 pr.jsonl > pr1.jsonl
OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt t.txt --cache cache-pr --base-url "$BASE" pr1.jsonl
entry=$(find cache-pr -type f ! -name '.*')
printf '{"trunc' > "$entry"
OPENAI_API_KEY=$KEY run mlde-gen -Z --progress --prompt t.txt --cache cache-pr --base-url "$BASE" -j 1 -o pr.out pr.jsonl
is "$status" 0 "--progress with stderr to a file: status 0"
like err "$(printf '\r\033\\[K')mlde-gen: [0-9]+/(>=)?[0-9]+ done, " "--progress: the line is drawn with \\r ESC[K"
like err "$(printf '\r\033\\[K')mlde-gen: pr1: cache entry [0-9a-f]{64} unusable" "the drawn line is wiped before a warning"
like err "$(printf '\r\033\\[K')mlde-gen: 24 plan records = 24 items" "... and before the summary"
perl -ne 'next unless /\n\z/; my @seg = split /\r\e\[K/; print if $seg[-1] =~ / in flight/' err > runon
perl -0ne 'print "not wiped at the end\n" if /\r\e\[K[^\n]*in flight[^\n\e]*\z/' err >> runon
is "$(cat runon)" "" "no message shares a line with progress text, and the line is wiped at the end"
stop_stub "$FAULT_PID"

# ---- the HTTP layer's defects, each fixed (issue 11) ----
KEY2=sk-FAKE-FOR-TESTS-ONLY-qZ7vW  # fake: no key of any service
printf '%s\n' "$KEY2" > key2
start_stub layer --delay 0.01
LAYER_PID=$PID
LPORT=$PORT
LBASE=http://127.0.0.1:$LPORT/v1
# fp2 ID FAULT: a plan whose request gets FAULT
fp2() { jq -nc --arg id "$1" --arg m "@fault=$2@" '{id: $id, type: "t", query: {image: "x.png"}, mark: $m}'; }
# pieces FILE...: every 6-byte piece of KEY2 that a FILE holds, "FILE: PIECE"
pieces() {
	perl -e 'my $k = shift; local $/; for my $f (@ARGV) { open(my $h, "<", $f) or next; my $t = <$h>;
		for my $i (0 .. length($k) - 6) { my $p = substr($k, $i, 6); print "$f: $p\n" if index($t, $p) >= 0 } }' "$KEY2" "$@"
}
# since N: what the layer stub logged after its first N lines (requests only)
since() { tail -n "+$(($1 + 1))" layer.log | grep ' path=' || :; }

# the key: scrubbed before a message is cut, found behind \u escapes
{ plan kok; fp2 k400 long400; fp2 kraw longrawxalways; fp2 kesc keyescaped; } > k.jsonl
run mlde-gen -q -Z --prompt t.txt --cache cache-k --base-url "$LBASE" --api-key-file key2 --retries 1 \
	--backoff 0.05 --rejects krej.jsonl k.jsonl
is "$status:$(ids .provenance.plan out)" "4:kok " "a long 400, a long non-JSON 500, a reply with the key in \\u escapes: failures"
is "$(jq -r '"\(.plan) \(.reason)"' krej.jsonl | tr '\n' ' ')" "k400 request-failed kraw request-failed kesc request-failed " \
	"... each in the rejects"
like krej.jsonl '"plan":"k400".*"detail":"HTTP 400: stub fault 400: x{175} \*\*\* and ' "the 400's message: the key scrubbed, then cut"
like krej.jsonl '"plan":"kraw".*"detail":"HTTP 500: Internal error: y{96} \*\*\*' "a body that is not JSON: the same"
like krej.jsonl '"plan":"kesc".*"detail":"the reply holds the API key: not kept"' "a key written with \\u escapes is found"
like err "^mlde-gen: why: HTTP 400: stub fault 400: x{175} \*\*\* and +\(1 request\)$" "-q: the failure says why, the server's message for a 400"
like err "^mlde-gen: why: the reply holds the API key: not kept \(1 request\)$" "... and for the key reply"
find cache-k -type f > k.files
is "$(pieces out err krej.jsonl $(cat k.files))" "" "no 6-byte piece of the key in output, stderr, rejects or cache"
fp2 k401 long401 > k401.jsonl
run mlde-gen -q -Z --prompt t.txt --cache cache-k --base-url "$LBASE" --api-key-file key2 k401.jsonl
is "$status" 4 "a 401 with a long message: status 4"
like err "HTTP 401: stub fault 401: x{175} \*\*\* and .*\(check OPENAI_API_KEY or --api-key-file\)" "... scrubbed, then cut, with the hint"
is "$(pieces out err)" "" "... and no piece of the key on stderr"

# malformed replies: the attempt fails and is retried; the run goes on
{ plan mok; fp2 m09 http09; fp2 mbig bigheader; plan mok2; } > m.jsonl
n0=$(wc -l < layer.log)
run mlde-gen -Z --prompt t.txt --cache cache-m --base-url "$LBASE" --retries 2 --backoff 0.05 --rejects mrej.jsonl m.jsonl
is "$status:$(ids .provenance.plan out)" "0:mok m09 mbig mok2 " "an HTTP/0.9 answer and a 300 KB header: retried, every request answered"
is "$(since "$n0" | awk '{ print $4 }' | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')" "bigheader=1 http09=1 ok=4 " \
	"... each malformed once, then answered"

# libcurl's own re-send on a reused connection that closed: refused, so
# every POST the server receives is an attempt, under --retries and --rpm
{ plan dok; for i in 1 2 3 4 5; do fp2 "d$i" dropreuse; done; } > d.jsonl
n0=$(wc -l < layer.log)
run mlde-gen -Z --prompt t.txt --cache cache-d --base-url "$LBASE" -j 1 --rpm 120 --retries 3 --backoff 0.05 d.jsonl
since "$n0" > d.log
is "$status:$(ids .provenance.plan out)" "0:dok d1 d2 d3 d4 d5 " "a connection closed under each reused request: all answered"
is "$(awk '$4 == "dropreuse"' d.log | wc -l | tr -d ' ')" 5 "... the server dropped five requests"
is "$(wc -l < d.log | tr -d ' ')" "$(sed -n 's/.*; sent \([0-9]*\) (.*/\1/p' err)" "the requests the server received = those the summary sent"
like err "; sent 11 \(5 retries, 0 throttled\)" "... 6 requests, 5 retries"
is "$(awk '{ t[NR] = $1 } END { m = 0; for (i = 1; i <= NR; i++) { c = 0; for (j = i; j <= NR && t[j] < t[i] + 1; j++) c++;
	if (c > m) m = c } print (m <= 4) ? "yes" : "no: " m }' d.log)" yes "--rpm 120: no second holds more than the bucket (2) and a second's rate (2)"

# nothing connects: the first retries fail too, and the run stops saying why
: > dead.jsonl
for i in $(seq 1 200); do plan "x$i" >> dead.jsonl; done
t0=$(date +%s)
run mlde-gen -q -Z --prompt t.txt --cache cache-dead --base-url http://127.0.0.1:1/v1 --rejects deadrej.jsonl dead.jsonl
t1=$(date +%s)
is "$status" 4 "nothing listens: status 4"
is "$(cat err)" "mlde-gen: why: connection refused to 127.0.0.1:1 (200 requests)" "-q: one line says why, for the 200 requests"
holds "... given up after the first round of retries ($((t1 - t0)) s), not after every backoff" test $((t1 - t0)) -le 8
is "$(jq -r .reason deadrej.jsonl | sort | uniq -c | awk '{ print $1, $2 }')" "200 request-failed" "... each in the rejects"

# a base URL without /v1 that answers 404
fp2 v404 v1only > v.jsonl
run mlde-gen -q -Z --prompt t.txt --cache cache-v --base-url "http://127.0.0.1:$LPORT" v.jsonl
is "$status" 4 "a base URL without /v1, answered 404: status 4"
like err "^mlde-gen: http://127\.0\.0\.1:$LPORT: HTTP 404: .*\(did you mean --base-url http://127\.0\.0\.1:$LPORT/v1\?\)$" "... with a hint"
run mlde-gen -q -Z --prompt t.txt --cache cache-v --base-url "http://127.0.0.1:$LPORT/v1" v.jsonl
is "$status" 0 "... which works"

# the cache key covers the server
{ plan s1; plan s2; } > s.jsonl
run mlde-gen -q -Z --prompt t.txt --cache cache-s --base-url "$LBASE" s.jsonl
cp out s-items.jsonl
run mlde-gen -q -Z --prompt t.txt --cache cache-s --base-url http://127.0.0.1:1/v1 --retries 0 s.jsonl
is "$status:$(wc -l < out | tr -d ' ')" "4:0" "another --base-url: the first server's replies are not served from the cache"
like err "^mlde-gen: why: connection refused to 127\.0\.0\.1:1 \(2 requests\)$" "... it is asked, and fails"
run mlde-gen -q -Z --offline --prompt t.txt --cache cache-s --base-url "$LBASE/" s.jsonl
same out s-items.jsonl "--offline with the same --base-url (a trailing / aside) finds them"
OPENAI_BASE_URL=$LBASE run mlde-gen -q -Z --offline --prompt t.txt --cache cache-s s.jsonl
same out s-items.jsonl "... and with it from OPENAI_BASE_URL"
run mlde-gen -q -Z --offline --prompt t.txt --cache cache-s --base-url http://127.0.0.1:1/v1 s.jsonl
is "$status:$(wc -l < out | tr -d ' ')" "4:0" "--offline with another --base-url: not in the cache"
jq -r '.provenance.request_sha256' s-items.jsonl | cut -c1-16 > s-shas
awk '$4 == "ok" { print $2 }' layer.log | grep -Fxf s-shas | sort -u > s-logged
is "$(wc -l < s-logged | tr -d ' ')" 2 "request_sha256 is still the sha256 of the body (the server logs it)"
is "$(find cache-s -type f -name "$(head -1 s-shas)*" | wc -l | tr -d ' ')" 0 "... and not the name of its cache entry"

# an empty key file, a key file whose first line is blank, a cache that is a file
n0=$(wc -l < layer.log)
: > empty.key
run mlde-gen -Z --prompt t.txt --cache cache-s --base-url "$LBASE" --api-key-file empty.key s.jsonl
is "$status" 2 "an empty --api-key-file: usage status"
like err "^mlde-gen: --api-key-file empty\.key: no key on its first line$" "... naming the file"
printf '\n%s\n' "$KEY2" > blank.key
run mlde-gen -Z --prompt t.txt --cache cache-s --base-url "$LBASE" --api-key-file blank.key s.jsonl
is "$status" 2 "a key file whose first line is blank: usage status"
is "$(wc -l < layer.log | tr -d ' ')" "$n0" "... and nothing sent"
: > cachefile
run mlde-gen -Z --prompt t.txt --cache cachefile --base-url "$LBASE" s.jsonl
is "$status:$(cat err)" "3:mlde-gen: cachefile: a regular file, not a directory (a reply cache is a directory)" \
	"--cache naming a regular file: said so"
stop_stub "$LAYER_PID"

# -j above the open-file limit: the soft limit raised, else -j cut, before
# anything is sent
: > nf.jsonl
for i in $(seq 1 300); do plan "n$i" >> nf.jsonl; done
start_stub nofile --delay 0.1
NF=http://127.0.0.1:$PORT/v1
(ulimit -n 64; exec mlde-gen -Z --prompt t.txt --cache cache-nf --base-url "$NF" -j 200 -o nf.out nf.jsonl) 2> nf.err && st=0 || st=$?
is "$st:$(wc -l < nf.out | tr -d ' ')" "0:300" "ulimit -n 64, -j 200: status 0, every request answered"
like nf.err "^mlde-gen: -j 200: only 64 files may be open \(ulimit -n\), 432 needed: 16 in flight$" "... -j cut to fit, saying so"
(ulimit -Sn 64; exec mlde-gen -v -Z --prompt t.txt --cache cache-nf2 --base-url "$NF" -j 200 -o nf2.out nf.jsonl) 2> nf2.err && st=0 || st=$?
is "$st:$(wc -l < nf2.out | tr -d ' ')" "0:300" "a soft limit of 64 under a higher hard one, -j 200: status 0"
like nf2.err "^mlde-gen: -j 200: the open-file limit raised to 432$" "... the soft limit raised"
like nf2.err "^mlde-gen: sending to .*, 200 in flight$" "... and -j kept"
stop_stub "$PID"

# ---- resume after kill -9 ----
: > big.jsonl
i=0
while [ "$i" -lt 500 ]; do echo "{\"id\":\"r$i\",\"type\":\"t\",\"query\":{\"image\":\"r$i.png\"}}"; i=$((i + 1)); done > big.jsonl
start_stub held --delay 0.005 --hold-after 200
HELD_PID=$PID
HELD_PORT=$PORT
OPENAI_API_KEY=$KEY mlde-gen -q --prompt t.txt --cache cache-r --base-url "http://127.0.0.1:$PORT/v1" \
	-j 16 --timeout 60 -o items.zst --rejects rrej.zst big.jsonl 2> gen1.err &
GEN=$!
i=0
while [ "$(find cache-r -type f ! -name '.*' 2>/dev/null | wc -l)" -lt 200 ] && [ "$i" -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.2
kill -9 "$GEN"
wait "$GEN" 2>/dev/null || :
is "$(find cache-r -type f ! -name '.*' | wc -l | tr -d ' ')" 200 "killed with 200 replies stored and 16 requests held"
[ ! -e items.zst ] && ok 0 "no output file after kill -9 (only items.zst.tmp)" || ok 1 "no output file after kill -9"
stop_stub "$HELD_PID"
# on the same port: the cache key covers the server's URL
start_stub resumed --delay 0.005 --port "$HELD_PORT"
OPENAI_API_KEY=$KEY run mlde-gen --prompt t.txt --cache cache-r --base-url "http://127.0.0.1:$PORT/v1" \
	-j 16 -o items.zst --rejects rrej.zst big.jsonl
is "$status" 0 "the rerun: status 0"
like err "^mlde-gen: 500 plan records = 500 items \+ 0 rejected \+ 0 failed; sent 300 \(0 retries, 0 throttled\), from cache 200" "the rerun sends 300, takes 200 from the cache"
{ zstdcat items.zst | jq -r .provenance.plan; zstdcat rrej.zst | jq -r .plan; } > resumed-ids
is "$(sort resumed-ids | uniq -d | wc -l | tr -d ' '):$(wc -l < resumed-ids | tr -d ' ')" "0:500" "every plan id exactly once across items, rejects and failures"
jq -r .id big.jsonl > big-ids
same resumed-ids big-ids "... in plan order"
cat held.log resumed.log | awk '$4 == "ok" { print $2 }' | sort | uniq -d > twice
is "$(wc -l < twice | tr -d ' ')" 0 "the server answered no request twice"
n_before=$(wc -l < resumed.log)
OPENAI_API_KEY=$KEY run mlde-gen --prompt t.txt --cache cache-r --base-url "http://127.0.0.1:$PORT/v1" -o items2.zst big.jsonl
is "$(wc -l < resumed.log)" "$n_before" "a rerun of a finished run sends nothing"
same items2.zst items.zst "... and writes the same bytes"
stop_stub "$PID"

# MLDE_PLAIN=1 makes standard output plain here too (as mlde(7) says of
# every program); -o files stay zstd
MLDE_PLAIN=1 mlde-gen -q --backend world plans.zst > plain.out
is "$(head -c 1 plain.out)" "{" "MLDE_PLAIN=1: plain JSON Lines on a pipe"
MLDE_PLAIN=1 mlde-gen -q --backend world -o plain.zst plans.zst
is "$(od -An -tx1 -N4 plain.zst | tr -d ' ')" "28b52ffd" "MLDE_PLAIN=1: -o FILE is still zstd"


# ---- a type without an explanation in the types file: a warning ----
# (once per type, naming it and the file), not a silent empty line; the
# types the default template is given all have one
jq -c '.type = "made_up"' one.jsonl > made.jsonl
jq -c '.id = "p2" | .type = "made_up"' one.jsonl >> made.jsonl
jq -c '.id = "p3" | .type = "other_made_up"' one.jsonl >> made.jsonl
run mlde-gen --emit prompt -Z --prompt "$PROMPTS/default.txt" made.jsonl
is "$status" 0 "unexplained types: still status 0"
is "$(grep -c "warning\|has no explanation" err)" 2 "one warning per unexplained type"
like err "^mlde-gen: type 'made_up' has no explanation in $PROMPTS/types.json: its prompt says nothing of it$" \
	"the warning names the type and the types file"
like err "type 'other_made_up' has no explanation" "... each type"
echo '{"made_up": {"title": "made up"}}' > partial.json
run mlde-gen --emit prompt -Z --prompt "$PROMPTS/default.txt" --types partial.json made.jsonl
like err "type 'made_up' has no explanation in partial.json" "a type with a title and no explain string: warned"
run mlde-gen --emit prompt -Z --prompt "$PROMPTS/default.txt" plans.zst
unlike err "has no explanation" "the embedded world's types: all explained, no warning"
run mlde-gen --emit prompt -Z --prompt t.txt made.jsonl
is "$(cat err)" "mlde-gen: 3 plan records = 3 prompts" "no types file (a template that takes none): no warning"
# a run whose rejects are kept does not warn that they are lost
jq -nc '{id: "r1", type: "spatial_relation", query: {image: "x.png"}, reply: "no question here"}' > norq.jsonl
start_stub kept
run mlde-gen --prompt echo.txt --cache cache-kept --base-url "http://127.0.0.1:$PORT/v1" -Z --rejects kept.jsonl norq.jsonl
is "$(jq -r .reason kept.jsonl)" "no-question" "a rejected reply, kept in --rejects"
unlike err "rejects not kept" "--rejects given: no warning that the rejects are lost"
run mlde-gen --prompt echo.txt --cache cache-kept --base-url "http://127.0.0.1:$PORT/v1" -Z norq.jsonl
like err "^mlde-gen: 1 rejects not kept: --rejects FILE keeps them$" "without --rejects: the warning"
stop_stub "$PID"
done_testing
