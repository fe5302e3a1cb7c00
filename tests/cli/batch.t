#!/bin/sh
# mlde-gen through the Batch API, against the stub's files and batches
# (tests/StubBatch.pm): the cache filled and the items those of a live run;
# failed lines batched again, sent live or failed; an expired batch and a
# failed one; batches split at lowered limits; kill -9 while polling and a
# rerun that creates no second batch; the input file written for vLLM's
# run_batch and its output read back; the key in no file.
. "$(dirname "$0")/../lib.sh"
STUB=$TESTS_DIR/stub-openai.pl
KEY=sk-mlde-test-batch-fake-0000
STUB_PIDS=
trap 'for p in $STUB_PIDS; do kill "$p" 2>/dev/null || :; done; rm -rf "$SCRATCH"' EXIT
export MLDE_BATCH_POLL=0.02

# start_stub NAME [ARGS]: a stub logging to NAME.log and NAME.blog (its
# Batch API calls); sets PORT, PID, BASE
start_stub() { stub_as=$1; shift; stub_start "$stub_as" --batch-log "$stub_as.blog" "$@"; }  # tests/lib.sh
stop_stub() { kill "$1" 2>/dev/null || :; wait "$1" 2>/dev/null || :; }
# plans N [MARK-OF-PLAN-2 [MARK-OF-PLAN-4]]: N plan records, some marked
plans() {
	for i in $(seq 1 "$1"); do
		mark=
		[ "$i" = 2 ] && mark=${2:-}
		[ "$i" = 4 ] && mark=${3:-}
		jq -nc --arg id "p$i" --arg m "$mark" '{id: $id, type: "x", query: {image: "x.png"}, mark: $m}'
	done
}
count() { grep -c -- "$1" "$2" || :; }
live() { count 'path=/v1/chat/completions' "$1"; }
gen() { OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt t.txt "$@"; }
printf '%s\n' 'plan {{ .id }} {{ .mark }}' > t.txt

# ---- the command line ----
plans 2 > two.jsonl
gen --batch-api < two.jsonl
is "$status" 2 "--batch-api on stdin: usage status (the input is read twice)"
like err "--batch-api reads the input twice: name FILEs, not stdin" "... saying why"
gen --batch-retry sometimes two.jsonl
is "$status" 2 "--batch-retry sometimes: usage status"
gen --batch-api --offline two.jsonl
is "$status" 2 "--batch-api --offline: usage status"
gen --batch-api --backend world two.jsonl
is "$status" 2 "--batch-api --backend world: usage status"
gen --batch-api --batch-write in.jsonl two.jsonl
is "$status" 2 "--batch-api with --batch-write: usage status"
gen --batch-api --dry-run two.jsonl
is "$status" 2 "--batch-api with --dry-run: usage status"
like err "--dry-run: not with --batch-\*" "... saying why"
OPENAI_API_KEY=$KEY run mlde-eval --backend http -m m --batch-read out.jsonl --dry-run two.jsonl
is "$status" 2 "mlde-eval --batch-read with --dry-run: usage status"
MLDE_BATCH_POLL=soon OPENAI_API_KEY=$KEY run mlde-gen --prompt t.txt --batch-api --cache c0 two.jsonl
is "$status" 2 "a bad MLDE_BATCH_POLL: usage status"
like err "^mlde-gen: MLDE_BATCH_POLL: 'soon' is not a number in \(0, 3600\]" "... naming it"
run mlde-gen --help
for o in --batch-api --batch-retry --batch-write --batch-read; do
	like out "^  $o" "--help: $o"
done

# ---- end to end: the items those of a live run, the cache filled ----
start_stub s1 --batch-steps 2
plans 6 > six.jsonl
gen --base-url "$BASE" --cache live-cache six.jsonl
cp out live.jsonl
is "$status:$(wc -l < live.jsonl | tr -d ' ')" "0:6" "a live run: six items"
n=$(live s1.log)
gen --base-url "$BASE" --cache bc --batch-api six.jsonl
is "$status" 0 "--batch-api: status 0"
same out live.jsonl "the items are those of the live run, byte for byte"
is "$(live s1.log)" "$n" "nothing sent live"
is "$(count ' create ' s1.blog):$(count ' upload ' s1.blog)" "1:1" "one file uploaded, one batch created"
for state in validating in_progress finalizing completed; do
	like err "batch 1/1 batch_stub[0-9]+: $state, " "the state is shown on stderr: $state"
done
like err "in_progress, [1-5]/6 done, 0 failed" "... with the request counts"
like err "batch: 6 replies into the cache from 1 batch \(0 found again\), tokens 720 \(600 prompt, 120 completion\), 0 unanswered" \
	"the summary of the batch, with the tokens its replies report"
is "$(find bc -type f | wc -l | tr -d ' ')" 6 "six replies in the cache, no state file left"
gen --base-url "$BASE" --cache bc --offline six.jsonl
is "$status" 0 "a later --offline run finds every reply"
same out live.jsonl "... and makes the same items"
gen --base-url "$BASE" --cache bc --batch-api six.jsonl
like err "batch: 0 requests to send \(6 of 6 in the cache already\)" "a rerun: nothing to send"
is "$(count ' create ' s1.blog)" 1 "... and no batch created"
is "$(count 'auth=no' s1.blog):$(count 'key_in_body=1' s1.blog)" "0:0" "every Batch API call carries the key, none in a body"

# ---- some failed lines: batched again, live, or failed ----
plans 6 @batch-failx1@ @batch-failx1@ > f1.jsonl
n=$(live s1.log)
c=$(count ' create ' s1.blog)
gen --base-url "$BASE" --cache fb --batch-api f1.jsonl
is "$status:$(wc -l < out | tr -d ' ')" "0:6" "failed lines batched again (default): six items"
is "$(( $(count ' create ' s1.blog) - c )):$(( $(live s1.log) - n ))" "2:0" "... in a second batch, nothing live"
like err "batch batch_stub[0-9]+: 4 replies into the cache, 2 unanswered \(first: HTTP 500\)" "the failed lines are told"
like err "2 requests unanswered: batching them again \(round 2\)" "... and batched again"
plans 6 @batch-fail@ @batch-fail@ > f2.jsonl
gen --base-url "$BASE" --cache f2-live f2.jsonl
cp out f2-live.jsonl
n=$(live s1.log)
gen --base-url "$BASE" --cache f2 --batch-api --batch-retry live f2.jsonl
is "$status:$(( $(live s1.log) - n ))" "0:2" "--batch-retry live: the two failed lines sent live"
same out f2-live.jsonl "... and the items are those of a live run"
like err "2 unanswered: they go live" "... as the note says"
n=$(live s1.log)
gen --base-url "$BASE" --cache f3 --batch-api --batch-retry none --rejects rej.jsonl f2.jsonl
is "$status:$(( $(live s1.log) - n ))" "4:0" "--batch-retry none: status 4, nothing live"
is "$(wc -l < out | tr -d ' '):$(jq -r .reason rej.jsonl | sort -u)" "4:not-cached" "... four items, two rejects"
n=$(live s1.log)
c=$(count ' create ' s1.blog)
gen --base-url "$BASE" --cache f4 --batch-api f2.jsonl
is "$status:$(( $(count ' create ' s1.blog) - c )):$(( $(live s1.log) - n ))" "0:3:2" \
	"lines that always fail: batched twice more, then live"
stop_stub "$PID"

# ---- an expired batch, a failed batch ----
start_stub s2 --batch-end expired
gen --base-url "$BASE" --cache ex --batch-api six.jsonl
is "$status" 0 "an expired batch: status 0"
same out live.jsonl "... the items of the live run"
like err "batch_stub001: expired, " "the expired state is shown"
like err "3 replies into the cache, 3 unanswered \(first: batch_expired: " "the expired half is told"
is "$(count ' create ' s2.blog):$(live s2.log)" "2:0" "... and batched again, nothing live"
stop_stub "$PID"
start_stub s3 --batch-end failed
gen --base-url "$BASE" --cache fa --batch-api --batch-retry live six.jsonl
is "$status" 0 "a failed batch, --batch-retry live: status 0"
same out live.jsonl "... the items of the live run"
like err "batch_stub001: failed, .*stub: the input file was refused" "the batch's error is shown"
is "$(live s3.log)" 6 "... every request sent live"
stop_stub "$PID"

# ---- split above the limits ----
start_stub s4
plans 5 > five.jsonl
MLDE_BATCH_MAX_REQUESTS=2 OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt t.txt --base-url "$BASE" --cache sp --batch-api five.jsonl
is "$status:$(count ' create ' s4.blog)" "0:3" "five requests at most two a batch: three batches"
is "$(grep ' create ' s4.blog | sed 's/.*requests=//' | sort | tr '\n' ' ')" "1 2 2 " "... of 2, 2 and 1"
like err "batch 3/3 batch_stub003: completed" "... each polled to its end"
gen --base-url "$BASE" --cache sp-live five.jsonl
cp out sp-live.ref
MLDE_BATCH_MAX_REQUESTS=2 OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt t.txt --base-url "$BASE" --cache sp --offline five.jsonl
same out sp-live.ref "the split batches' items are the live run's"
OPENAI_API_KEY=$KEY mlde-gen -q --prompt t.txt --base-url "$BASE" --cache sp2 --batch-write five-in.jsonl five.jsonl
line=$(head -1 five-in.jsonl | wc -c)
c=$(count ' create ' s4.blog)
MLDE_BATCH_MAX_BYTES=$((line * 3)) OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt t.txt --base-url "$BASE" --cache sp2 --batch-api five.jsonl
is "$status:$(( $(count ' create ' s4.blog) - c ))" "0:2" "at most three lines' bytes a batch: two batches"
MLDE_BATCH_MAX_BYTES=10 OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt t.txt --base-url "$BASE" --cache sp3 --batch-api five.jsonl
is "$status" 1 "a request over the byte limit: status 1"
like err "over the batch input file's limit of 10" "... saying so"
stop_stub "$PID"

# ---- kill -9 while polling, then a rerun ----
start_stub s5 --batch-steps 60
OPENAI_API_KEY=$KEY MLDE_BATCH_POLL=0.05 mlde-gen -Z --prompt t.txt --base-url "$BASE" --cache kc --batch-api six.jsonl > k.out 2> k.err &
GPID=$!
i=0
while [ "$(count ' retrieve ' s5.blog)" -lt 3 ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$GPID"
wait "$GPID" 2>/dev/null || :
is "$(count ' create ' s5.blog)" 1 "killed while polling: one batch created"
is "$(ls kc/batches | wc -l | tr -d ' ')" 1 "... and its state file kept"
like kc/batches/*.json '"batch_id":"batch_stub001"' "... naming the batch"
gen --base-url "$BASE" --cache kc --batch-api six.jsonl
is "$status" 0 "the rerun: status 0"
is "$(count ' create ' s5.blog):$(count ' upload ' s5.blog):$(live s5.log)" "1:1:0" \
	"... no second batch, no second upload, nothing live"
like err "batch 1/1 batch_stub001: created by an earlier run, waiting for it again" "... it found the batch again"
same out live.jsonl "... and the items are the live run's"
is "$(ls kc/batches | wc -l | tr -d ' ')" 0 "the state file goes once the replies are in"

# ---- killed between the creation and its state file ----
# as that run leaves it: the file uploaded, the batch created (with the
# input's sha256 in its metadata), the state file naming the file only
start_stub s8
gen --base-url "$BASE" --cache mc --batch-write min.jsonl six.jsonl
sha=$(sha256sum < min.jsonl | cut -c1-64)
fid=$(curl -sf -F purpose=batch -F "file=@min.jsonl" "$BASE/files" | jq -r .id)
curl -sf -H 'Content-Type: application/json' -o /dev/null "$BASE/batches" -d \
	"{\"input_file_id\":\"$fid\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\",\"metadata\":{\"mlde_input_sha256\":\"$sha\"}}"
mkdir -p mc/batches
printf '{"input_sha256":"%s","input_file_id":"%s"}\n' "$sha" "$fid" > "mc/batches/$sha.json"
gen --base-url "$BASE" --cache mc --batch-api six.jsonl
is "$status:$(count ' create ' s8.blog):$(count ' upload ' s8.blog):$(count ' list ' s8.blog)" "0:1:1:1" \
	"a state file without the batch: the batches listed, none created, nothing uploaded"
like err "batch 1/1 batch_stub001: created by an earlier run \(found by its metadata\)" "... the batch found by its metadata"
same out live.jsonl "... and its replies make the live run's items"
stop_stub "$PID"

# ---- --batch-write and --batch-read: vLLM's run_batch files ----
gen --base-url "$BASE" --cache vc --batch-write in.jsonl six.jsonl
is "$status:$(cat out | wc -c | tr -d ' ')" "0:0" "--batch-write: status 0, no items"
is "$(wc -l < in.jsonl | tr -d ' ')" 6 "... six lines"
is "$(jq -r '[.method, .url, (.custom_id | test("^[0-9a-f]{64}$")), (keys | join(","))] | join(" ")' in.jsonl | sort -u)" \
	"POST /v1/chat/completions true body,custom_id,method,url" "... each {custom_id, method, url, body}"
is "$(jq -r '.body.model' in.jsonl | sort -u)" gpt-4o "... the body the live path sends"
is "$(count ' upload ' s8.blog):$(count ' create ' s8.blog)" "1:1" "... and nothing sent"
# the bodies the live run sends (another stub, on another port: the cache
# keys stay those of the URL the input file was written for)
WBASE=$BASE
start_stub s6 --save-bodies .
gen --base-url "$BASE" --cache saved six.jsonl
ok "$(ls ./*.json | wc -l | tr -d ' ' | grep -qx 6; echo $?)" "the live bodies saved"
same_bodies=0
while read -r l; do
	sha=$(printf '%s' "$l" | sed 's/^{"custom_id":"[0-9a-f]*","method":"POST","url":"[^"]*","body"://; s/}$//' | sha256sum | cut -c1-16)
	[ -f "$sha.json" ] || same_bodies=1
done < in.jsonl
ok "$same_bodies" "each line's body is, byte for byte, a body the live run sent"
# run_batch's output: one answer a line, one of them refused
BASE=$WBASE
jq -c --slurpfile items live.jsonl '{id: "vllm-\(.custom_id[0:8])", custom_id, response:
	(if .body.messages[0].content | test("p3") then {status_code: 400, request_id: "r", body: {error: {message: "bad"}}}
	 else {status_code: 200, request_id: "r", body: {id: "c", object: "chat.completion", model: "M",
	   choices: [{index: 0, message: {role: "assistant", content: "Question: Read back?\nChoices: (A) yes (B) no\nAnswer: (A)"}, finish_reason: "stop"}]}} end),
	error: null}' in.jsonl > out.jsonl
gen --base-url "$BASE" --cache vc --batch-read out.jsonl --offline --rejects vr.jsonl six.jsonl
is "$status" 4 "--batch-read, --offline: status 4 (one line held no reply)"
like err "out.jsonl: 5 replies into the cache, 1 lines without one" "... five read, one not"
is "$(jq -r .question out | sort -u):$(wc -l < out | tr -d ' ')" "Read back?:5" "... five items of the file's replies"
is "$(jq -r .plan vr.jsonl)" p3 "... and the plan without one failed"
echo '{"custom_id": "../../etc/x", "response": {"status_code": 200, "body": {}}}' > evil.jsonl
gen --base-url "$BASE" --cache vc --batch-read evil.jsonl --offline six.jsonl
like err "evil.jsonl: 0 replies into the cache, 1 lines without one" "a custom_id that is no cache key is skipped"
echo 'not json' > bad.jsonl
gen --base-url "$BASE" --cache vc --batch-read bad.jsonl --offline six.jsonl
is "$status:$(cat err)" "1:mlde-gen: bad.jsonl:1: not a JSON object" "a line that is not JSON: status 1, file:line"
gen --base-url "$BASE" --cache vc --batch-read missing.jsonl six.jsonl
is "$status" 3 "--batch-read of a missing file: I/O status"

# ---- mlde-eval --backend http: the questions through the Batch API ----
start_stub s7
png 4 4 a.png
for i in 1 2 3; do
	jq -nc --arg id "q$i" --arg h "@reply-b64=$(printf 'The answer is (B).' | base64 -w0)@" \
		'{id: $id, image: "a.png", hint: $h, question: "What colour is ball \($id)?", options: ["red", "blue", "green"], answer: 1, type: "colour"}'
done > items.jsonl
ev() { OPENAI_API_KEY=$KEY run mlde-eval -Z --backend http -m M --base-url "$BASE" --circular "$@"; }
ev --cache ecl items.jsonl
cp out elive.jsonl
is "$status:$(wc -l < elive.jsonl | tr -d ' '):$(live s7.log)" "0:3:9" "mlde-eval live: three records, nine questions"
ev --cache ecb --batch-api items.jsonl
is "$status:$(live s7.log):$(count ' create ' s7.blog)" "0:9:1" "mlde-eval --batch-api: one batch, nothing live"
is "$(grep ' create ' s7.blog | sed 's/.*requests=//')" 9 "... of every rotation's question"
same out elive.jsonl "... and the records are the live run's"
ev --cache ecb --offline items.jsonl
same out elive.jsonl "a later --offline run finds every answer"
ev --batch-api < items.jsonl
is "$status" 2 "mlde-eval --batch-api on stdin: usage status"
OPENAI_API_KEY=$KEY run mlde-eval -m model.st --batch-api items.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: --batch-api is an option of --backend http" "... and with the builtin model"
ev --cache ecw --batch-write ein.jsonl items.jsonl
is "$status:$(wc -c < out | tr -d ' '):$(wc -l < ein.jsonl | tr -d ' ')" "0:0:9" "mlde-eval --batch-write: nine lines, no records"
jq -c '. + {mark: "@batch-fail@"}' items.jsonl | jq -c 'if .id == "q2" then .hint += " @batch-fail@" else . end' > fitems.jsonl
n=$(live s7.log)
ev --cache ecn --batch-api --batch-retry none fitems.jsonl
is "$status:$(wc -l < out | tr -d ' '):$(( $(live s7.log) - n ))" "4:2:0" \
	"--batch-retry none: the record whose questions failed is left out (status 4), nothing live"
stop_stub "$PID"

# ---- a server that is not there ----
OPENAI_API_KEY=$KEY run mlde-gen -Z --prompt t.txt --base-url http://127.0.0.1:9/v1 --retries 0 \
	--cache dead --batch-api six.jsonl
is "$status:$(wc -c < out | tr -d ' ')" "4:0" "no server: status 4, no items"
like err "^mlde-gen: uploading the batch input file: connection refused to 127.0.0.1:9" "... naming the step that failed"

# ---- the key ----
holds "the key is in no file: cache, state, outputs, logs" not grep -rqF "$KEY" .
holds "... nor any piece of it" not grep -rqF "${KEY#sk-mlde-}" .
done_testing
