#!/bin/sh
# mlde-export from the command line: one item exactly as LLaVA's and
# LLaMA-Factory's records, --rationale, --image-root, data: URI images
# written once by content, several inputs in order, the output a JSON array
# written whole or not at all, and every bad input as FILE:LINE and the field.
. "$(dirname "$0")/../lib.sh"

Q='{"id":"q1","image":"coco/000000033471.jpg","question":"What colour is the bus?","options":["red","white","blue"],"answer":1,"type":"instance_attributes","rationale":"The bus is painted white."}'
echo "$Q" > one.jsonl
HUMAN='<image>\nWhat colour is the bus?\nA. red\nB. white\nC. blue\nAnswer with the option'"'"'s letter from the given choices directly.'

# ---- one item, exactly ----
run mlde-export llava one.jsonl
is "$status" 0 "llava: status 0"
printf '[\n{"id":"q1","image":"coco/000000033471.jpg","conversations":[{"from":"human","value":"%s"},{"from":"gpt","value":"B"}]}\n]\n' "$HUMAN" > want
same out want "llava: the record of one item, byte for byte"
like err '^mlde-export: 1 item exported as llava$' "llava: the summary"
holds "llava: a JSON array of one" test "$(jq length out)" = 1

run mlde-export llava --rationale one.jsonl
is "$(jq -r '.[0].conversations[1].value' out)" "$(printf 'B\nThe bus is painted white.')" \
	"--rationale: the letter, a newline, the rationale"

run mlde-export sharegpt -q --rationale --image-root /data one.jsonl
printf '[\n{"messages":[{"role":"user","content":"%s"},{"role":"assistant","content":"B\\nThe bus is painted white."}],"images":["/data/coco/000000033471.jpg"]}\n]\n' "$HUMAN" > want
same out want "sharegpt --rationale --image-root: the record, byte for byte"
is "$(cat err)" "" "-q: no summary"

run mlde-export sharegpt one.jsonl
is "$(jq -r '.[0].messages[1].content' out)" "B" "sharegpt: the letter alone without --rationale"
is "$(jq -r '.[0].images[0]' out)" "coco/000000033471.jpg" "without --image-root the path is the item's"

# an absolute path is not rerooted; eight options are lettered A to H
echo '{"id":"a","image":"/abs/x.png","question":"Q?","options":["1","2","3","4","5","6","7","8"],"answer":7}' > eight.jsonl
run mlde-export llava --image-root /data eight.jsonl
is "$(jq -r '.[0].image' out)" "/abs/x.png" "an absolute path stays as it is"
like out 'H\. 8\\nAnswer with' "eight options: A to H"
is "$(jq -r '.[0].conversations[1].value' out)" "H" "the answer letter H"
# no rationale: --rationale gives the letter alone
run mlde-export llava --rationale eight.jsonl
is "$(jq -r '.[0].conversations[1].value' out)" "H" "--rationale on an item without one: the letter"

# ---- no items, several inputs, stdin, zstd ----
: > empty.jsonl
run mlde-export llava empty.jsonl
is "$status:$(cat out)" "0:[]" "no items: an empty array"
zstd -q -c one.jsonl > one.jsonl.zst
run mlde-export llava one.jsonl.zst eight.jsonl
is "$(jq -r 'map(.id) | join(",")' out)" "q1,a" "zstd and plain inputs, in order"
mlde-export llava -q < one.jsonl > stdin.json
is "$(jq -r '.[0].id' stdin.json)" "q1" "items from stdin"

# ---- data: URI images: written once, named by content ----
png 3 2 img.png
SHA=$(sha256sum img.png | cut -c1-64)
B64=$(base64 -w0 img.png)
printf '{"id":"d1","image":"data:image/png;base64,%s","question":"Q?","options":["a","b"],"answer":0}\n' "$B64" > data.jsonl
printf '{"id":"d2","image":"data:image/png;base64,%s","question":"R?","options":["a","b"],"answer":1}\n' "$B64" >> data.jsonl
run mlde-export llava --images-out imgs -o data.json data.jsonl
is "$status" 0 "data: URIs: status 0"
is "$(jq -r 'map(.image) | unique | join(",")' data.json)" "imgs/$SHA.png" \
	"each data: URI becomes DIR/SHA256.png"
same "imgs/$SHA.png" img.png "the file holds the image's bytes"
like err 'images in imgs: 1 written, 1 there already' "one file written for the two items"
is "$(ls imgs | wc -l | tr -d ' ')" 1 "and only one file"
run mlde-export llava --images-out imgs -o data.json data.jsonl
like err 'images in imgs: 0 written, 2 there already' "a second run writes nothing again"
run mlde-export llava --images-out "$SCRATCH/abs" --image-root /data data.jsonl
is "$(jq -r '.[0].image' out)" "$SCRATCH/abs/$SHA.png" "--image-root does not touch --images-out paths"

# ---- bad input: FILE:LINE and the field, status 1, no output ----
bad() { # NAME LINE2 MESSAGE-ERE [OPTIONS]
	printf '%s\n%s\n' "$Q" "$2" > bad.jsonl
	rm -f out.json
	run mlde-export llava ${4:-} -o out.json bad.jsonl
	is "$status" 1 "$1: status 1"
	like err "^mlde-export: bad\.jsonl:2: $3" "$1: named"
	holds "$1: no output" not test -e out.json
	holds "$1: no .tmp left" not test -e out.json.tmp
}
bad "not JSON" '{"id":' ""
bad "no answer" '{"id":"x","image":"a.png","question":"Q?","options":["a","b"]}' "field 'answer'"
bad "answer out of range" '{"id":"x","image":"a.png","question":"Q?","options":["a","b"],"answer":2}' "field 'answer'"
bad "one option" '{"id":"x","image":"a.png","question":"Q?","options":["a"],"answer":0}' "field 'options'"
bad "no image" '{"id":"x","question":"Q?","options":["a","b"],"answer":0}' "field 'image'"
bad "no id (llava)" '{"image":"a.png","question":"Q?","options":["a","b"],"answer":0}' "field 'id'"
bad "data: URI without --images-out" "{\"id\":\"x\",\"image\":\"data:image/png;base64,$B64\",\"question\":\"Q?\",\"options\":[\"a\",\"b\"],\"answer\":0}" \
	"field 'image': a data: URI, and no --images-out"
bad "data: URI not base64" '{"id":"x","image":"data:image/png;base64,@@@","question":"Q?","options":["a","b"],"answer":0}' \
	"field 'image': not base64" "--images-out imgs"
bad "data: URI not an image" "{\"id\":\"x\",\"image\":\"data:image/png;base64,$(echo hello | base64)\",\"question\":\"Q?\",\"options\":[\"a\",\"b\"],\"answer\":0}" \
	"field 'image': not a PNG" "--images-out imgs"
bad "data: URI not base64 at all" '{"id":"x","image":"data:text/plain,hi","question":"Q?","options":["a","b"],"answer":0}' \
	"field 'image': a data: URI that is not data:image/...;base64" "--images-out imgs"
# sharegpt needs no id
echo '{"image":"a.png","question":"Q?","options":["a","b"],"answer":0}' > noid.jsonl
run mlde-export sharegpt noid.jsonl
is "$status" 0 "sharegpt: an item without an id is fine"

# ---- usage and I/O ----
run mlde-export
is "$status" 2 "no format: status 2"
like err "which format\? llava or sharegpt" "no format: said"
run mlde-export csv one.jsonl
is "$status" 2 "an unknown format: status 2"
like err "unknown format 'csv'" "an unknown format: named"
run mlde-export llava -Z one.jsonl
is "$status" 2 "-Z: not an option (never zstd)"
run mlde-export llava -19 one.jsonl
is "$status" 2 "-19: a zstd level is refused"
like err "the output is JSON, not zstd" "-19: why"
run mlde-export llava --images-out "" one.jsonl
is "$status" 2 "--images-out '': status 2"
run mlde-export llava missing.jsonl
is "$status" 3 "a missing input: status 3"
echo x > file
run mlde-export llava --images-out file/sub data.jsonl
is "$status" 3 "--images-out that cannot be made: status 3"
if [ -w /dev/full ]; then
	run sh -c 'mlde-export llava one.jsonl > /dev/full'
	is "$status" 3 "a write error: status 3"
else
	skip "a write error: status 3" "no writable /dev/full"
fi

done_testing
