#!/bin/sh
# mlde-eval --backend http is the builtin model's evaluation when the
# server is the builtin model: a stand-in served model on 127.0.0.1
# (tests/stand-in-model.pl, which answers each vision request by running
# mlde-eval -m on the decoded image and the question read back from the
# prompt) gives, through the http backend, the same pred for every test
# item of a world as mlde-eval -m, with --logprobs the same scores, with
# --circular the same pred in every rotation, and with --embed (over
# /v1/embeddings) the same embeddings.
# First the stand-in itself, against the request mlde-eval(1) documents,
# sent by curl.
. "$(dirname "$0")/../lib.sh"
STANDIN=$TESTS_DIR/stand-in-model.pl
KEY=sk-mlde-equiv-3b8e1d0c77
SERVER_PIDS=
trap 'for p in $SERVER_PIDS; do kill "$p" 2>/dev/null || :; done; rm -rf "$SCRATCH"' EXIT

# start_standin NAME [ARGS]: the stand-in on model.st, logging to NAME.log;
# sets PORT, PID
start_standin() {
	name=$1
	shift
	perl "$STANDIN" --model model.st --port-file "$name.port" --log "$name.log" "$@" &
	PID=$!
	SERVER_PIDS="$SERVER_PIDS $PID"
	i=0
	while [ ! -s "$name.port" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	PORT=$(cat "$name.port")
}
stop_server() { kill "$1" 2>/dev/null || :; wait "$1" 2>/dev/null || :; }
# preds FILE: "id pred" per eval record
preds() { jq -r '"\(.id) \(.pred)"' "$1" | tr '\n' ' '; }

# a world with every type of question, and a model trained on it briefly:
# fixtures, made by the programs themselves even under make valgrind-check
# (where training alone would take minutes)
"$MLDE_BIN/mlde-world" -q --seed 11 --out w --images 40 --base 400 --val 10 --test 60
"$MLDE_BIN/mlde-train" -q -o model.st --images w --epochs 2 --batch 16 w/base.jsonl.zst
zstd -dcq w/test.jsonl.zst > test.jsonl
run mlde-eval -Z -m model.st --images w test.jsonl
is "$status" 0 "builtin: status 0"
mv out direct.jsonl
holds "builtin: the model does not answer every item alike (a real comparison)" \
	test "$(jq .pred direct.jsonl | sort -u | wc -l)" -ge 3

start_standin si --name served-model
SI_PID=$PID
URL=http://127.0.0.1:$PORT/v1

# ---- the stand-in, against the documented request (curl) ----
if command -v curl > /dev/null; then
	# body$i.json: the request mlde-eval(1) documents for item i, top 5 logprobs
	i=0
	: > curl.cfg
	while IFS= read -r rec; do
		i=$((i + 1))
		img=$(printf '%s\n' "$rec" | jq -r .image)
		printf '%s\n' "$rec" | jq -c --arg b64 "$(base64 < "w/$img" | tr -d '\n')" \
			'{model: "served-model", temperature: 0, max_tokens: 16, logprobs: true,
			top_logprobs: 5, messages: [{role: "user", content: [
			{type: "image_url", image_url: {url: ("data:image/png;base64," + $b64)}},
			{type: "text", text: ((if .hint then .hint + "\n" else "" end) + .question
				+ ([.options | to_entries[] | "\n\([65 + .key] | implode). \(.value)"] | join(""))
				+ "\nAnswer with the option'"'"'s letter from the given choices directly.")}]}]}' \
			> "body$i.json"
		[ "$i" -gt 1 ] && echo next >> curl.cfg
		printf 'url = "%s/chat/completions"\ndata-binary = "@body%d.json"\noutput = "reply%d.json"\nheader = "Content-Type: application/json"\n' \
			"$URL" "$i" "$i" >> curl.cfg
	done < test.jsonl
	run curl -sS --parallel --parallel-max 16 -K curl.cfg
	is "$status" 0 "curl: every request answered"
	n=$(wc -l < test.jsonl | tr -d ' ')
	: > curl.preds
	i=0
	while [ "$i" -lt "$n" ]; do
		i=$((i + 1))
		jq -r '.choices[0].message.content' "reply$i.json" >> curl.preds
	done
	is "$(tr '\n' ' ' < curl.preds)" "$(jq -r '[65 + .pred] | implode' direct.jsonl | tr '\n' ' ')" \
		"stand-in: the letter of mlde-eval -m's pred for every item"
	# the top log-probabilities are the eval record's scores, most likely first
	jq -c '[.choices[0].logprobs.content[0].top_logprobs[] | [.token, (.logprob | exp * 1e4 | round)]]' \
		reply1.json > top1
	is "$(cat top1)" "$(head -1 direct.jsonl | jq -c '[.scores | to_entries | sort_by(-.value, .key)[]
		| [([65 + .key] | implode), (.value * 1e4 | round)]]')" \
		"stand-in: top_logprobs are log(scores), most likely first"
	is "$(awk '$3 == "ok"' si.log | wc -l | tr -d ' ')" "$n" "stand-in: each request logged as answered"
	holds "stand-in: concurrent requests share mlde-eval runs" \
		test "$(awk '{ sub("batch=", "", $6); if ($6 > 1) m++ } END { print m + 0 }' si.log)" -gt 0
	# what it refuses, in OpenAI's words
	jq -c '.model = "other"' body1.json > other.json
	run curl -sS -o err.json -w '%{http_code}' --data-binary @other.json "$URL/chat/completions"
	is "$(cat out)" 404 "stand-in: another model's name: 404"
	like err.json '"message":"The model `other` does not exist."' "  with vLLM's message"
	jq -c '.messages[0].content[1].text = "Which one?"' body1.json > noopt.json
	run curl -sS -o err.json -w '%{http_code}' --data-binary @noopt.json "$URL/chat/completions"
	is "$(cat out)" 400 "stand-in: no lettered options: 400"
	like err.json '"type":"invalid_request_error"' "  an OpenAI error body"
	jq -c '.messages[0].content[0].image_url.url |= sub(";base64,"; ";base64,*")' body1.json > badimg.json
	run curl -sS -o err.json -w '%{http_code}' --data-binary @badimg.json "$URL/chat/completions"
	is "$(cat out)" 400 "stand-in: an image that does not decode: 400"
	like err.json '"param":"messages\[0\]\.content\[0\]\.image_url\.url"' "  naming where"
	# the checks it shares with stub-openai.pl --vision (tests/OpenAIChat.pm):
	# JQ-EDIT of a sound body ~ the param ~ the code of the 400
	U='.messages[0].content[0].image_url.url'
	while IFS='~' read -r edit param code; do
		jq -c "$edit" body1.json > bad.json
		run curl -sS -o err.json -w '%{http_code}' --data-binary @bad.json "$URL/chat/completions"
		is "$(cat out) $(jq -r '.error | "\(.param) \(.code) \(.type)"' err.json)" \
			"400 $param $code invalid_request_error" "a 400 for $edit"
	done <<-EOF
	del(.model)~model~missing_required_parameter
	.messages = []~messages~empty_array
	.messages[0].role = "robot"~messages[0].role~invalid_value
	.messages[0].content[1] = {type: "audio"}~messages[0].content[1].type~invalid_value
	.messages[0].content[1].text = 7~messages[0].content[1].text~invalid_type
	.messages[0].content |= .[1:]~messages~invalid_value
	.messages = [{role: "system", content: [.messages[0].content[0]]}]~messages[0].content[0].type~invalid_value
	$U |= sub("png"; "jpeg")~messages[0].content[0].image_url.url~invalid_image_format
	$U |= sub("png"; "tiff")~messages[0].content[0].image_url.url~invalid_image_format
	$U |= .[:-1]~messages[0].content[0].image_url.url~invalid_image_format
	$U = "https://example.com/a.png"~messages[0].content[0].image_url.url~invalid_image_url
	$U = "data:image/png;base64,aGVsbG8gd29ybGQh"~messages[0].content[0].image_url.url~invalid_image_format
	.messages[0].content[0].image_url.detail = "max"~messages[0].content[0].image_url.detail~invalid_value
	.temperature = "0"~temperature~invalid_type
	.max_tokens = 0~max_tokens~integer_below_min_value
	.logprobs = false~top_logprobs~invalid_value
	.top_logprobs = 21~top_logprobs~invalid_value
	EOF
	printf 'not json' > bad.json
	run curl -sS -o err.json -w '%{http_code}' --data-binary @bad.json "$URL/chat/completions"
	is "$(cat out) $(jq -r .error.code err.json)" "400 invalid_json" "a 400 for a body that is not JSON"
else
	skip "stand-in against curl" "no curl"
fi

# ---- mlde-eval --backend http against the stand-in ----
: > si.log
export OPENAI_API_KEY=$KEY
run mlde-eval -Z --backend http -m served-model --base-url "$URL" --images w --cache cache \
	-j 16 test.jsonl
is "$status" 0 "http: status 0"
mv out http.jsonl
mv err http.err
is "$(wc -l < http.jsonl | tr -d ' ')" "$(wc -l < test.jsonl | tr -d ' ')" "http: one record per item"
same_preds=$(preds direct.jsonl)
is "$(preds http.jsonl)" "$same_preds" "http: the same pred as mlde-eval -m for every item, in order"
is "$(jq -c '[.id, .correct]' http.jsonl | tr '\n' ' ')" "$(jq -c '[.id, .correct]' direct.jsonl | tr '\n' ' ')" \
	"http: the same correct for every item"
is "$(jq -r .model http.jsonl | sort -u)" "served-model" "http: model names the served model"
is "$(grep -c ' ok ' si.log)" "$(wc -l < test.jsonl | tr -d ' ')" "http: one request per item, each answered"
# every image went as its file's bytes
jq -r .image test.jsonl | sort -u | (cd w && xargs sha256sum) | cut -c1-16 | sort > files.sha
sed -n 's/.* image_sha=\([0-9a-f]*\) .*/\1/p' si.log | sort -u > sent.sha
same files.sha sent.sha "http: each image sent is its file, byte for byte"
like http.err 'accuracy' "http: the accuracy on stderr"
is "$(sed -n 's/.*accuracy \([0-9.]*\).*/\1/p' http.err | head -1)" \
	"$(mlde-eval -m model.st --images w test.jsonl 2>&1 >/dev/null | sed -n 's/.*accuracy \([0-9.]*\).*/\1/p' | head -1)" \
	"http: the same accuracy as mlde-eval -m"

# with log-probabilities: the scores too, to the printed precision (four
# decimals; the stand-in sends log(p) of the rounded scores and the client
# renormalises, so one unit in the last place may differ)
: > si.log
run mlde-eval -Z --backend http -m served-model --base-url "$URL" --images w --cache cache \
	-j 16 --logprobs 5 test.jsonl
is "$status" 0 "http --logprobs: status 0"
mv out http-lp.jsonl
is "$(preds http-lp.jsonl)" "$same_preds" "http --logprobs: the same pred for every item"
is "$(jq -r '.scores | length' http-lp.jsonl | tr '\n' ' ')" "$(jq -r '.scores | length' direct.jsonl | tr '\n' ' ')" \
	"http --logprobs: a score for every option"
is "$(jq -rn --slurpfile a direct.jsonl --slurpfile b http-lp.jsonl '[$a, $b] | transpose
	| map(select(.[0].id != .[1].id or ([.[0].scores, .[1].scores] | transpose
		| map(.[0] - .[1] | fabs) | max) > 0.000101) | .[0].id) | join(" ")' 2>&1)" "" \
	"http --logprobs: the same scores as mlde-eval -m, to the fourth decimal"
is "$(grep -c ' ok ' si.log)" "$(wc -l < test.jsonl | tr -d ' ')" "http --logprobs: new requests (the body differs)"

# --circular: the builtin model scores each option by its text, wherever
# it stands, so every rotation must come back to the item's own pred
: > si.log
run mlde-eval -Z --backend http -m served-model --base-url "$URL" --images w --cache cache \
	-j 16 --circular test.jsonl
is "$status" 0 "http --circular: status 0"
mv out http-circ.jsonl
is "$(jq -r 'select((.circular | length) != (.options | length)) | .id' http-circ.jsonl)" "" \
	"http --circular: a rotation per option on every record"
is "$(jq -c '[.id, ([.circular[].pred] | unique)]' http-circ.jsonl | tr '\n' ' ')" \
	"$(jq -c '[.id, [.pred]]' direct.jsonl | tr '\n' ' ')" \
	"http --circular: every rotation's pred, in the item's order, is mlde-eval -m's"
is "$(jq -c '[.id, .pred, .correct]' http-circ.jsonl | tr '\n' ' ')" "$(jq -c '[.id, .pred, .correct]' direct.jsonl | tr '\n' ' ')" \
	"http --circular: so pred and correct are mlde-eval -m's"
is "$(grep -c ' ok ' si.log)" "$(jq -s 'map(.options | length - 1) | add' test.jsonl)" \
	"http --circular: one request per rotation, rotation 0 from the cache (the plain run's body)"

# --embed over /v1/embeddings: the builtin model's image embeddings, of
# items and of pool records alike.  To the printed precision less one unit
# in the fourth decimal: the builtin's embedding moves in its last bits with
# the batch it is computed in (mlde-eval -m --embed --batch 1 and --batch
# 512 differ there too), and the stand-in's batches are not the direct run's.
zstd -dcq w/pool.jsonl.zst | head -10 > pool.jsonl
cat test.jsonl pool.jsonl > mixed.jsonl
mlde-eval -q -Z -m model.st --images w --embed mixed.jsonl > direct-emb.jsonl
: > si.log
run mlde-eval -Z --backend http -m served-model --base-url "$URL" --images w --cache cache \
	-j 16 --embed mixed.jsonl
is "$status" 0 "http --embed: status 0"
mv out http-emb.jsonl
is "$(jq -c '[.image, .pred]' http-emb.jsonl | tr '\n' ' ')" "$(jq -c '[.image, .pred]' direct-emb.jsonl | tr '\n' ' ')" \
	"http --embed: every item and pool record, in order, items with the same pred"
is "$(jq -rn --slurpfile a direct-emb.jsonl --slurpfile b http-emb.jsonl '[$a, $b] | transpose
	| map(select((.[0].embedding | length) != (.[1].embedding | length)
		or ([.[0].embedding, .[1].embedding] | transpose | map(.[0] - .[1] | fabs) | max) > 0.000101)
		| .[0].image) | join(" ")' 2>&1)" "" \
	"http --embed: the same embedding as mlde-eval -m --embed, to the fourth decimal"
is "$(jq -r '.embedding | length' http-emb.jsonl | sort -u)" 128 "http --embed: 128 numbers each"
is "$(grep -c ' embedded ' si.log)" "$(wc -l < mixed.jsonl | tr -d ' ')" "http --embed: one embeddings request per record"

# the key went to the server only
for f in http.jsonl http-lp.jsonl http-emb.jsonl http.err; do
	unlike "$f" "${KEY#sk-}" "the key is not in $f"
done
holds "the key is not in the cache" not grep -rqF "${KEY#sk-}" cache

stop_server "$SI_PID"
done_testing
