#!/bin/sh
# mlde-eval --backend http against the stub server (tests/stub-openai.pl, in
# its vision mode: every request is checked against OpenAI's chat format):
# each extraction form, ambiguity, the judge, CircularEval, log-probability
# scores, JPEG and data: URI images, the exact request body of mlde-eval(1),
# the cache and --offline, failures, the key, --embed over /v1/embeddings,
# and the records through mlde-weak and mlde-sample.  Replies are scripted by
# a @reply-b64=...@ marker in each item's hint (the judge is not shown the
# hint, so its own reply can be scripted by a marker in the first reply).
. "$(dirname "$0")/../lib.sh"
STUB=$TESTS_DIR/stub-openai.pl
MAN=$TESTS_DIR/../man/mlde-eval.1
KEY=sk-mlde-eval-test-4d9b2e7a1c
KEY_PART=4d9b2e7a
STUB_PIDS=
trap 'for p in $STUB_PIDS; do kill "$p" 2>/dev/null || :; done; rm -rf "$SCRATCH"' EXIT

# wait_port NAME: until the server has written NAME.port; sets PORT
wait_port() {
	i=0
	while [ ! -s "$1.port" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	PORT=$(cat "$1.port")
}
# start_stub NAME [ARGS]: a stub server logging to NAME.log; sets PORT, PID
start_stub() { stub_as=$1; shift; stub_start "$stub_as" --auth-log "$stub_as.auth" "$@"; }  # tests/lib.sh
stop_stub() { kill "$1" 2>/dev/null || :; wait "$1" 2>/dev/null || :; }
b64() { printf %s "$1" | base64 -w0; }
sha16() { sha256sum | cut -c1-16; }
# q ID REPLY [OPTIONS [ANSWER [IMAGE]]]: an item whose hint scripts the reply
q() {
	jq -nc --arg id "$1" --arg h "@reply-b64=$(b64 "$2")@" --argjson o "${3:-[\"red\",\"blue\",\"green\"]}" \
		--argjson a "${4:-1}" --arg img "${5:-a.png}" \
		'{id: $id, image: $img, hint: $h, question: "What colour is the ball?", options: $o, answer: $a, type: "colour"}'
}
# fields FILE JQ: one line per record, space-separated
fields() { jq -r "$2 | map(tostring) | join(\" \")" "$1"; }
# logged NAME: the requests the stub has answered so far
logged() { grep -c ' path=' "$1.log" || :; }

png 4 4 a.png

# ---- the command line ----
run mlde-eval --backend nowhere -m x a.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: --backend: 'nowhere' is not one of builtin, http" \
	"--backend nowhere: a usage error"
run mlde-eval --backend http a.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: -m MODEL is required" "http without -m: a usage error"
run mlde-eval -m model.st --circular a.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: --circular is an option of --backend http" \
	"--circular with the builtin model: a usage error"
run mlde-eval -m model.st --base-url http://127.0.0.1:9/v1 a.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: --base-url is an option of --backend http" \
	"--base-url with the builtin model: a usage error"
run mlde-eval --backend http -m m --threads 2 a.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: --threads is an option of --backend builtin" \
	"--threads over http: a usage error"
run mlde-eval --backend http -m m --judge-url http://127.0.0.1:9/v1 a.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: --judge-url needs --judge-model" "--judge-url alone"
run mlde-eval --backend http -m m --embed-model e a.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: --embed-url and --embed-model need --embed" \
	"--embed-model without --embed"
run mlde-eval --backend http -m m --field temperature a.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: --field: 'temperature' is not KEY=JSON" "--field without ="
run mlde-eval --backend http -m m --field 'x={' a.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: --field: 'x={': the value is not JSON" "--field, bad JSON"
run mlde-eval --backend http -m m --logprobs 21 a.jsonl
is "$status" 2 "--logprobs 21: out of range"

start_stub main --vision
MAIN_PID=$PID
BASE=http://127.0.0.1:$PORT/v1
E="--backend http -m llava --base-url $BASE --cache cache -Z"

# ---- every extraction form ----
: > forms.jsonl
: > forms.want
f() { q "$1" "$2" >> forms.jsonl; echo "$1 $3 $4 $5" >> forms.want; }
f letter "B" 1 letter rule
f letter-lower " b " 1 letter rule
f letter-dot "B." 1 letter rule
f paren "(B)" 1 form rule
f paren-c "The answer is (C)." 2 form rule
f close "B) blue" 1 form rule
f answer-colon "Answer: B" 1 form rule
f answer-is "The answer is B" 1 form rule
f bold "**B**" 1 form rule
f text "blue" 1 text rule
f text-case "BLUE" 1 text rule
f none "I cannot tell from this picture." null none null
f ambiguous "(A) or (B)" null ambiguous null
f past "D" null none null
OPENAI_API_KEY=$KEY run mlde-eval $E -o forms.out forms.jsonl
is "$status" 0 "extraction forms: status 0"
fields forms.out '[.id, .pred, .rule, .extracted]' > forms.got
same forms.got forms.want "each form read as documented; ambiguity and none give pred null"
is "$(jq -r 'select(.raw == null or .model != "llava" or .correct != (.pred == .answer)) | .id' forms.out)" "" \
	"every record has raw, model (the --model name) and correct"
jq -r .raw forms.out > raws.got
jq -r '.hint | sub("^@reply-b64="; "") | sub("@$"; "") | @base64d' forms.jsonl > raws.want
same raws.got raws.want "raw keeps the reply as it came"
like err '^mlde-eval: 14 items, accuracy 0\.7143 \(10 correct\)$' "the summary: accuracy"
like err '^mlde-eval: 11 answered \(11 by the rules, 0 by the judge\), 3 unanswered$' \
	"the summary: answered and unanswered"
like err '^mlde-eval: questions sent 14 \(0 retries, 0 throttled\), from cache 0' "the summary: requests sent"
holds "the stub accepted every request as a vision chat completion" not grep -q ' invalid ' main.log
is "$(logged main)" 14 "one request per item"

# ---- the cache, --offline, the key ----
n=$(logged main)
OPENAI_API_KEY=$KEY run mlde-eval $E forms.jsonl
same out forms.out "again: the same records"
like err 'questions sent 0 \(0 retries, 0 throttled\), from cache 14' "again: all from the cache"
run mlde-eval $E --offline forms.jsonl
same out forms.out "--offline after the live run: the same records"
is "$(logged main)" "$n" "--offline: nothing sent"
{ head -2 forms.jsonl; q fresh "B!"; } > fresh.jsonl
run mlde-eval $E --offline fresh.jsonl
is "$status" 4 "--offline, one item not cached: status 4"
like err "^mlde-eval: 1 record left out: requests failed for good \(the first: http://127\.0\.0\.1:[0-9]+/v1/chat/completions: no reply in the cache" \
	"--offline: says which and why"
is "$(jq -r .id out | tr '\n' ' ')" "letter letter-lower " "--offline: the cached records are still written, in order"
holds "the key was sent" grep -q "Bearer $KEY" main.auth
holds "the key is in no output, message or cache entry" \
	not grep -rq "$KEY_PART" forms.out out err cache

printf '%s\n' "$KEY" > key.txt
keyed=$(grep -c "Bearer $KEY" main.auth)
run mlde-eval $E --api-key-file key.txt --cache cache-kf forms.jsonl
is "$status:$(grep -c "Bearer $KEY" main.auth)" "0:$((keyed + 14))" \
	"--api-key-file: the key is read from the file, sent with every request"
holds "--api-key-file: the key is in no output or message" not grep -rq "$KEY_PART" out err cache-kf
run mlde-eval $E -j 2 --rpm 6000 --tpm 1e9 --cache cache-j2 forms.jsonl
is "$status" 0 "-j 2 --rpm --tpm: status 0"
same out forms.out "-j 2 --rpm --tpm: the same records, in input order"
q slow "B" > slow0.jsonl
jq -c '.hint += " @fault=slow@"' slow0.jsonl > slow.jsonl
run mlde-eval $E --timeout 0.3 --retries 0 slow.jsonl
is "$status" 4 "--timeout 0.3, a reply that comes after 3 s: status 4"
like err 'left out: requests failed for good .*no reply within 0\.3 s' "  the message says it timed out"
like err '^mlde-eval: why: .*no reply within 0\.3 s \(1 request\)' "  and why, counted by cause"

# ---- the request body: mlde-eval(1)'s example, exactly ----
sed -n '/^\.\\" request-example-begin/,/^\.\\" request-example-end/p' "$MAN" | grep -v '^\.' |
	sed -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g' -e 's/\\e/\\/g' > doc-body.json
holds "mlde-eval(1) has the example body" test -s doc-body.json
want=$(jq -cSj . doc-body.json | sha16)
uri=$(jq -r '.messages[0].content[0].image_url.url' doc-body.json)
jq -nc --arg u "$uri" '{id: "ex1", image: $u, hint: "The square is small.", question: "What colour is the square?",
	options: ["red", "black", "white"], answer: 1, type: "instance_attributes"}' > doc-item.jsonl
run mlde-eval --backend http -m llava-hf/llava-1.5-7b-hf --base-url "$BASE" --cache cache -Z doc-item.jsonl
is "$status" 0 "the example item: status 0"
holds "the body sent is mlde-eval(1)'s example, byte for byte (sorted keys, compact)" \
	grep -q " $want 1 " main.log
printf %s "$uri" | sed 's/^data:image\/png;base64,//' | base64 -d > doc.png
holds "a data: URI image is sent as it is" grep -q "$want .*image_sha=$(sha16 < doc.png)" main.log

# every option of the body: --system, --temperature, --max-tokens,
# --logprobs, --field (over a field mlde-eval sets, too)
run mlde-eval --backend http -m m2 --base-url "$BASE" --cache cache -Z --system 'Be brief.' \
	--temperature 0.5 --max-tokens 3 --logprobs 2 --field 'structured_outputs={"choice":["A","B","C"]}' \
	--field max_tokens=4 doc-item.jsonl
is "$status" 0 "every body option: status 0"
want=$(jq -cSj '.model = "m2" | .temperature = 0.5 | .max_tokens = 4 | .logprobs = true | .top_logprobs = 2
	| .structured_outputs = {choice: ["A", "B", "C"]} | .messages = [{role: "system", content: "Be brief."}] + .messages' \
	doc-body.json | sha16)
holds "every body option: the body mlde-eval(1) describes" grep -q " $want 1 " main.log

# ---- images: a JPEG, a JPEG named .png ----
# a baseline JPEG of one grey 8x8 block: DC 0, then end of block
perl -e 'print pack("H*", "ffd8" . "ffdb004300" . ("01" x 64) . "ffc0000b080008000801011100"
	. "ffc40014000100" . ("00" x 15) . "00" . "ffc40014100100" . ("00" x 15) . "00"
	. "ffda000801010000003f00" . "3f" . "ffd9")' > grey.jpg
cp grey.jpg grey.png
{ q jpeg "B" '["red","blue","green"]' 1 grey.jpg; q jpeg-named-png "B" '["red","blue","green"]' 1 grey.png; } > jpeg.jsonl
run mlde-eval $E jpeg.jsonl
is "$status:$(fields out '[.id, .pred]' | tr '\n' ' ')" "0:jpeg 1 jpeg-named-png 1 " \
	"JPEG images: evaluated (the stub checks the data: URI's type against the bytes)"
is "$(grep -c "image_sha=$(sha16 < grey.jpg)" main.log)" 2 "JPEG images: the file's bytes sent, twice"
echo 'not an image' > fake.png
q notimage "B" '["a","b"]' 0 fake.png > notimage.jsonl
run mlde-eval $E notimage.jsonl
is "$status" 1 "an image of no known type: status 1"
like err '^mlde-eval: notimage.jsonl:1: .*fake.png' "  named with FILE:LINE"
q missing "B" '["a","b"]' 0 nosuch.png > missing.jsonl
run mlde-eval $E missing.jsonl
is "$status" 3 "a missing image: status 3"

# ---- log-probabilities ----
jq -nc --arg h "@reply-b64=$(b64 B)@ @logprobs=B:0.7,A:0.2,C:0.1@" \
	'{id: "lp", image: "a.png", hint: $h, question: "Which?", options: ["x", "y", "z"], answer: 1, type: "t"}' > lp.jsonl
run mlde-eval $E --logprobs 3 lp.jsonl
is "$status:$(jq -c .scores out)" "0:[0.2,0.7,0.1]" "--logprobs: scores, each option letter's probability"
is "$(jq -r .pred out)" 1 "--logprobs: pred is still the reply's letter"
run mlde-eval $E lp.jsonl
is "$(jq -r 'has("scores")' out)" false "without --logprobs: no scores"

# ---- the judge ----
start_stub judge
JUDGE_URL=http://127.0.0.1:$PORT/v1
{
	q j-decides "I would say the second one @reply-b64=$(b64 B)@"
	q j-none "Nothing fits @reply-b64=$(b64 Z)@"
	q j-rules "C"
	q j-chatty "Unclear @reply-b64=$(b64 'It is the blue one.')@"
} > judge.jsonl
J="--judge-url $JUDGE_URL --judge-model judge-1"
OPENAI_API_KEY=$KEY run mlde-eval $E $J judge.jsonl
is "$status" 0 "judge: status 0"
cp out judge.out
is "$(fields judge.out '[.id, .pred, .extracted, .rule, .judge]' | tr '\n' '|')" \
	"j-decides 1 judge none B|j-none null null none Z|j-rules 2 rule letter null|j-chatty null null none It is the blue one.|" \
	"judge: asked only when the rules read nothing, its reply read strictly (a letter, never an option's text)"
is "$(logged judge)" 3 "judge: three requests, at the judge's server"
like err '^mlde-eval: 2 answered \(1 by the rules, 1 by the judge\), 2 unanswered; the judge asked 3 times$' \
	"judge: the summary counts its decisions"
like err '; judge sent 3 \(0 retries, 0 throttled\), from cache 0' "judge: its requests in the summary"
holds "judge: the same key, never in the output" not grep -q "$KEY_PART" judge.out err
run mlde-eval $E $J --offline judge.jsonl
same out judge.out "judge: --offline, the judge's replies from the cache too"
is "$(logged judge)" 3 "judge: --offline sent nothing"

start_stub judge2 --reply 'Answer: C'
q j-default "Hmm." > judge2.jsonl
run mlde-eval $E --judge-url "http://127.0.0.1:$PORT/v1" --judge-model judge-2 judge2.jsonl
is "$(fields out '[.pred, .extracted, .judge]')" "2 judge Answer: C" \
	"judge: a reply in one of the usual forms is read too (a judge stub answering --reply)"

# ---- CircularEval ----
{ q c-steady "blue"; q c-letter "A" '["red","blue","green"]' 0; q c-two "blue" '["red","blue"]' 1; } > circ.jsonl
run mlde-eval $E --circular circ.jsonl
is "$status" 0 "circular: status 0"
cp out circ.out
is "$(fields circ.out '[.id, .pred, .correct, ([.circular[].pred] | tostring)]' | tr '\n' '|')" \
	'c-steady 1 true [1,1,1]|c-letter 0 false [0,1,2]|c-two 1 true [1,1]|' \
	"circular: one prediction per rotation, in the item's option indices; correct only when all are"
like err '^mlde-eval: 3 items, accuracy 0\.6667 \(2 correct\)$' "circular: the circular accuracy"
like err '^mlde-eval: plain accuracy 1\.0000 \(3 correct: the first rotation alone\)$' \
	"circular: the plain accuracy"
# the rotations the server saw: option i shown at position (i - k) mod n
rot() {
	jq -cSj --arg u "data:image/png;base64,$(base64 -w0 a.png)" --arg h "$(head -1 circ.jsonl | jq -r .hint)" --arg o "$1" \
		'.messages[0].content[0].image_url.url = $u | .model = "llava"
		| .messages[0].content[1].text = ($h + "\nWhat colour is the ball?\n" + $o + "\nAnswer with the option'"'"'s letter from the given choices directly.")' \
		doc-body.json | sha16
}
for o in 'A. red\nB. blue\nC. green' 'A. blue\nB. green\nC. red' 'A. green\nB. red\nC. blue'; do
	holds "circular: the server saw the rotation $(echo "$o" | tr '\n' ' ')" \
		grep -q " $(rot "$(printf "$o")") 1 " main.log
done
mlde-weak -q -Z circ.out > circ.weak
is "$(jq -c '[.type, .n, .correct]' circ.weak)" '["colour",3,2]' "circular records: mlde-weak takes them unchanged"

# ---- failures ----
{ q ok-1 "B"; jq -nc --arg h "@fault=500xalways@ @reply-b64=$(b64 B)@" \
	'{id: "bad", image: "a.png", hint: $h, question: "Q?", options: ["a", "b"], answer: 0}'; q ok-2 "A"; } > fail.jsonl
run mlde-eval $E --retries 1 --backoff 0.01 -q fail.jsonl
is "$status" 4 "a request failing for good: status 4"
like err '^mlde-eval: 1 record left out: requests failed for good \(the first: http://127\.0\.0\.1:[0-9]+/v1/chat/completions: .*500' \
	"  says why, even with -q"
is "$(jq -r .id out | tr '\n' ' ')" "ok-1 ok-2 " "  the other records are written, in order"
jq -nc --arg h "@fault=401xalways@" '{id: "k", image: "a.png", hint: $h, question: "Q?", options: ["a", "b"], answer: 0}' > k401.jsonl
OPENAI_API_KEY=$KEY run mlde-eval $E k401.jsonl
is "$status" 4 "401: status 4"
like err 'check OPENAI_API_KEY or --api-key-file' "401: the hint"
holds "401: the key is not in the message" not grep -q "$KEY_PART" err

# ---- kill -9 mid-run, then resume: only what has no reply is sent ----
i=0
while [ "$i" -lt 40 ]; do q "r$i" "B $i"; i=$((i + 1)); done > big.jsonl
start_stub held --vision --delay 0.005 --hold-after 20
HELD_PID=$PID HELD_PORT=$PORT
mlde-eval --backend http -m llava --base-url "http://127.0.0.1:$PORT/v1" --cache cache-r -j 4 --timeout 60 \
	-o big.out big.jsonl 2> big1.err &
EVAL=$!
i=0
while [ "$(find cache-r -type f ! -name '.*' 2>/dev/null | wc -l)" -lt 20 ] && [ "$i" -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.2
kill -9 "$EVAL"
wait "$EVAL" 2>/dev/null || :
is "$(find cache-r -type f ! -name '.*' | wc -l | tr -d ' ')" 20 "kill -9: 20 replies stored, the rest held"
holds "kill -9: no output file (only its .tmp)" test ! -e big.out
stop_stub "$HELD_PID"
# on the same port: the cache key covers the server's URL
start_stub resumed --vision --port "$HELD_PORT"
run mlde-eval --backend http -m llava --base-url "http://127.0.0.1:$PORT/v1" --cache cache-r -Z big.jsonl
is "$status:$(jq -r .id out | tr '\n' ' ')" "0:$(jq -r .id big.jsonl | tr '\n' ' ')" "the rerun: every record, in input order"
like err 'questions sent 20 \(0 retries, 0 throttled\), from cache 20' "the rerun sends 20, takes 20 from the cache"
cat held.log resumed.log | awk '$4 == "ok" { print $2 }' | sort | uniq -d > twice
is "$(wc -l < twice | tr -d ' ')" 0 "no request answered twice"
stop_stub "$PID"

# ---- progress ----
run mlde-eval $E --progress forms.jsonl
like err 'mlde-eval: [0-9]+/(>=)?[0-9]+ done, [0-9.]+/s, [0-9]+ in flight, [0-9]+ retries, [0-9]+ failed' \
	"--progress: done/total, rate, retries on stderr"

# ---- --embed over /v1/embeddings (a server of its own: the stub speaks chat) ----
cat > emb.pl <<'PL'
use strict; use warnings; use IO::Socket::INET; use Digest::SHA qw(sha256_hex);
my ($pf, $log) = @ARGV;
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 64, ReuseAddr => 1) or die "$!";
open(my $p, '>', "$pf.tmp") or die; print $p $s->sockport, "\n"; close $p; rename("$pf.tmp", $pf) or die;
open(my $l, '>>', $log) or die; $l->autoflush(1);
while (my $c = $s->accept) {
	local $/ = "\r\n\r\n";
	my $h = <$c>;
	next unless defined $h;
	my ($path) = $h =~ m{^POST (\S+)};
	my ($n) = $h =~ /content-length:\s*(\d+)/i;
	my $body = '';
	while (length($body) < ($n // 0)) { read($c, my $buf, $n - length $body) or last; $body .= $buf }
	print $l substr(sha256_hex($body), 0, 16), " path=$path\n";
	my $r = '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.123456789,-2,1e-7]}],"model":"e"}';
	print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " . length($r)
		. "\r\nConnection: close\r\n\r\n$r";
	close $c;
}
PL
perl emb.pl emb.port emb.log &
STUB_PIDS="$STUB_PIDS $!"
wait_port emb
EMB_URL=http://127.0.0.1:$PORT/v1
{ echo '{"image":"a.png","captions":["c"]}'; echo '{"image":"a.png","embedding":[1,2]}'; q e-item "B"; } > emb.jsonl
run mlde-eval $E --embed --embed-url "$EMB_URL" --embed-model vlm2vec emb.jsonl
is "$status" 0 "--embed: status 0"
is "$(fields out '[.image, (.embedding | tostring), .pred]' | tr '\n' '|')" \
	'a.png [0.123457,-2,1e-07] null|a.png [1,2] null|a.png [0.123457,-2,1e-07] 1|' \
	"--embed: embeddings filled (six digits), one already there kept, items still answered"
is "$(grep -c 'path=/v1/embeddings' emb.log)" 2 "--embed: two requests at /v1/embeddings, none for the kept one"
want=$(jq -ncSj --arg u "data:image/png;base64,$(base64 -w0 a.png)" '{model: "vlm2vec", encoding_format: "float",
	messages: [{role: "user", content: [{type: "image_url", image_url: {url: $u}}, {type: "text", text: "Represent the given image."}]}]}' | sha16)
holds "--embed: the body mlde-eval(1) describes" grep -q "^$want " emb.log
like err '1 image-only records embedded' "--embed: counted"
like err '1 image-only records kept their embedding' "--embed: the kept one counted"
run mlde-eval $E --embed --embed-url "$EMB_URL" --embed-model vlm2vec --offline emb.jsonl
is "$status:$(grep -c 'path=' emb.log)" "0:2" "--embed --offline: from the cache"

# ---- eval records through mlde-weak and mlde-sample ----
stop_stub "$MAIN_PID"
start_stub plain --vision --reply B
mlde-world -q --seed 3 --out w --images 30 --base 10 --val 40 --test 9
run mlde-eval --backend http -m llava --base-url "http://127.0.0.1:$PORT/v1" --cache cache2 -Z --images w w/val.jsonl.zst
is "$status:$(wc -l < out | tr -d ' ')" "0:40" "a world's val set over http: a record per item"
cp out wval.jsonl
mlde-eval -q --backend http -m llava --base-url "http://127.0.0.1:$PORT/v1" --cache cache2 --images w \
	w/val.jsonl.zst | mlde-weak -q -Z > out
is "$(jq -s 'map(.n) | add' out)" 40 "mlde-eval | mlde-weak: every item counted"
run mlde-weak -q -Z wval.jsonl
is "$status" 0 "mlde-weak takes the records unchanged"
is "$(jq -s 'map(.n) | add' out)" 40 "  every item counted"
cp out wweak.jsonl
run sh -c 'mlde-eval -q --backend http -m llava --base-url "$0" --cache cache2 --images w w/val.jsonl.zst |
	mlde-sample -q -Z --retrieval random --weak wweak.jsonl --pool w/pool.jsonl.zst --budget 12' "http://127.0.0.1:$PORT/v1"
is "$status:$(wc -l < out | tr -d ' ')" "0:12" "mlde-eval | mlde-sample: plans from the records, unchanged"

done_testing
