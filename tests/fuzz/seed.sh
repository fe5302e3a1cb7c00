#!/bin/sh
# tests/fuzz/seed.sh NAME DIR BINDIR - seed the corpus DIR of fuzz target
# NAME from the fixtures (tests/fixtures, ../shared/fixtures when there)
# and from files the programs in BINDIR make at run time (a tiny world,
# its images, world-backend replies, a tiny model).  Files already in DIR
# stay: a corpus grows from run to run.
# tests/fuzz/seed.sh --max-len NAME - the largest input worth trying.
set -eu
if [ "$1" = --max-len ]; then
	case $2 in
	safetensors) echo 65536 ;;
	png) echo 16384 ;;
	jsonl) echo 16384 ;;
	import) echo 16384 ;;
	http) echo 8192 ;;
	*) echo 4096 ;;
	esac
	exit 0
fi
name=$1 dir=$2 bin=$3
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mkdir -p "$dir"
work=$(mktemp -d "${TMPDIR:-/tmp}/mlde-seed.XXXXXX")
trap 'rm -rf "$work"' EXIT
export LC_ALL=C

fixtures() {
	find "$top/tests/fixtures" "$top/../shared/fixtures" -type f "$@" 2> /dev/null || true
}
# add FILE [PREFIX]: FILE (with PREFIX bytes before it) as a seed, named by
# its checksum as libFuzzer names its own
add() {
	f=$work/seed
	printf "${2:-}" > "$f"
	head -c 60000 "$1" >> "$f"
	cp "$f" "$dir/seed-$(cksum < "$f" | tr ' ' -)"
}
world() {
	[ -d "$work/w" ] || "$bin/mlde-world" -q --seed 1 --out "$work/w" --images 3 --base 6 --val 4 --test 2
}

case $name in
jsonl)
	# the first byte chooses the framing (fuzz-jsonl.c): 0 as it is,
	# 1 one frame, 2 two frames, 3 cut short, 4 a 64-byte line limit
	world
	for f in $(fixtures -name '*.jsonl') "$work"/w/*.jsonl.zst; do
		add "$f" '\000\000'
	done
	for f in $(fixtures -name '*.jsonl'); do
		head -5 "$f" > "$work/five"
		add "$work/five" '\001\000'
		add "$work/five" '\002\100'
		add "$work/five" '\003\040'
		add "$work/five" '\004\000'
	done
	printf '{"a":"x\\u0000y"}\n{"b":"\\ud83d\\ude00"}\r\n\n{"c":[1,{"d":null}]}' > "$work/edge"
	add "$work/edge" '\000\000'
	;;
reply)
	for f in $(fixtures -name '*completion*' -o -name '*batch_output*' -o -name '*error_bodies*'); do
		add "$f"
	done
	world
	"$bin/mlde-world" -q --seed 2 --out "$work/w2" --images 4 --base 2 --val 2 --test 2 --annotate
	zstd -dcq "$work/w2/pool.jsonl.zst" | head -4 | jq -c '{id: "p\(input_line_number)", type: "spatial_relation", query: ., examples: []}' > "$work/plans.jsonl" 2> /dev/null || true
	if [ -s "$work/plans.jsonl" ]; then
		"$bin/mlde-gen" -q --backend world --emit raw -Z "$work/plans.jsonl" 2> /dev/null |
			jq -r '.raw // empty' 2> /dev/null | awk -v d="$work" 'BEGIN { RS = "" } { f = d "/raw" NR; print > f; close(f) }' || true
	fi
	for f in "$work"/raw*; do [ -f "$f" ] && add "$f"; done
	printf 'Question: What is left of the cube?\nChoices: (A) a ball (B) a cone\nAnswer: (A) a ball\nExplanation: it is.\n' > "$work/r1"
	add "$work/r1"
	;;
template)
	for f in "$top"/prompts/*.txt; do add "$f"; done
	printf 'Type {{ .type }}: {{ $types[.type] }}\n{{ .examples | map(.question) | join("; ") }} {{ .query.objects | map(.bbox | box) }} {{ .examples[0].options | choices }}\n' > "$work/t1"
	add "$work/t1"
	;;
png)
	world
	for f in $(find "$work/w/images" -name '*.png' | sort | head -4); do add "$f"; done
	for f in $(fixtures -name '*.png'); do add "$f"; done
	;;
safetensors)
	world
	"$bin/mlde-train" -q -o "$work/m" --images "$work/w" --epochs 1 --batch 2 \
		--arch c1=1,c2=1,c3=1,c4=1,film=0,dq=1,dh=1,dz=1,heads=0,dk=1,nq=1,na=1 "$work/w/base.jsonl.zst"
	add "$work/m"
	;;
answer)
	# the first byte: the number of options - 2; then the options, a line
	# each; then the reply
	for reply in 'B' '(B)' 'The answer is B.' '**B. a square**' 'Answer: C' 'A square is shown.' \
		'B or C' 'a square' 'I think it is D - a star'; do
		printf '\002a circle\na square\na triangle\na star\n%s' "$reply" > "$work/a"
		add "$work/a"
	done
	for f in $(fixtures -name '*completion*'); do
		jq -c '.choices[0]' "$f" > "$work/choice" 2> /dev/null && add "$work/choice" '\003'
	done
	printf '{"logprobs":{"content":[{"token":"B","logprob":-0.1,"top_logprobs":[{"token":"B","logprob":-0.1},{"token":"A","logprob":-2.5}]}]}}' > "$work/lp"
	add "$work/lp"
	printf '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2,0.3]}]}' > "$work/emb"
	add "$work/emb"
	;;
import)
	# the first byte: 0 MMBench TSV, 1 SEED-Bench, 2 A-OKVQA, 3 COCO
	for f in $(fixtures -name '*mmbench*.tsv'); do add "$f" '\000'; done
	for f in $(fixtures -name '*seed_bench*.json'); do add "$f" '\001'; done
	for f in $(fixtures -name '*aokvqa*.json'); do add "$f" '\002'; done
	cap=$(fixtures -name '*captions*.json' | head -1)
	ins=$(fixtures -name '*instances*.json' | head -1)
	if [ -n "$cap" ] && [ -n "$ins" ]; then
		jq -c -n --slurpfile c "$cap" --slurpfile i "$ins" \
			'[$c[0] | .annotations |= .[:20] | .images |= .[:10], $i[0] | .annotations |= .[:20] | .images |= .[:10]]' \
			> "$work/coco" 2> /dev/null && add "$work/coco" '\003'
	fi
	;;
http)
	# five steering bytes (fuzz-http.c): the check (0 none, 1 completion,
	# 2 embedding; +4 a 512-byte body limit, +8 a 64-byte header line
	# limit) and four lengths of the body's pieces; then a whole response
	ok='HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-request-id: req_1\r\n\r\n'
	for f in $(fixtures -name '*completion*'); do
		add "$f" "\001\377\377\377\377$ok"
		add "$f" "\005\017\001\200\003$ok"
	done
	for f in $(fixtures -name '*batch_output*'); do
		jq -c '.response.body // .response // empty' "$f" 2> /dev/null | head -3 > "$work/bodies" || true
		i=0
		while IFS= read -r body; do
			i=$((i + 1))
			printf '%s' "$body" > "$work/b$i"
			add "$work/b$i" "\001\007\040\003\377HTTP/2 200 \r\ncontent-type: application/json\r\n\r\n"
		done < "$work/bodies"
	done
	for f in $(fixtures -name '*error_bodies*'); do
		i=0
		while IFS= read -r body; do
			i=$((i + 1))
			printf '%s' "$body" > "$work/e$i"
			add "$work/e$i" "\001\377\377\377\377HTTP/1.1 429 Too Many Requests\r\nRetry-After: 20\r\nretry-after-ms: 19500\r\n\r\n"
			add "$work/e$i" "\001\010\010\010\010HTTP/1.1 503 Service Unavailable\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n"
		done < "$f"
	done
	printf '{"error":{"message":"Incorrect API key provided: sk-fuzz-0123456789abcdefghij. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}' > "$work/e401"
	add "$work/e401" '\000\377\377\377\377HTTP/1.1 401 Unauthorized\r\n\r\n'
	printf '{"choices":[{"message":{"content":"sk\\u002dfuzz-0123456789abcdefghij"}}]}' > "$work/keyecho"
	add "$work/keyecho" "\001\377\377\377\377$ok"
	printf '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2,0.3]}],"usage":{"prompt_tokens":8,"total_tokens":8}}' > "$work/emb"
	add "$work/emb" "\002\003\003\003\003$ok"
	printf '{"detail":"Not Found"}' > "$work/e404"
	add "$work/e404" '\000\377\377\377\377HTTP/1.1 404 Not Found\r\ncontent-length: 22\r\n\r\n'
	printf '<html><body>502 Bad Gateway</body></html>\n' > "$work/e502"
	add "$work/e502" '\000\377\377\377\377HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n'
	printf 'Question: What is left of the cube?\nChoices: (A) a ball (B) a cone\nAnswer: (A) a ball\n' |
		jq -Rsc '{choices: [{message: {role: "assistant", content: .}}], usage: {prompt_tokens: 10, completion_tokens: 20}}' > "$work/item"
	add "$work/item" "\001\000\000\000\000HTTP/1.1 100 Continue\r\n\r\n$ok"
	printf 'HELLO, this is no HTTP status line\r\n\r\n' > "$work/h09"
	add "$work/h09" '\001\377\377\377\377'
	head -c 200 /dev/zero | tr '\000' z > "$work/z"
	{ printf 'HTTP/1.1 200 OK\r\nX-Big: '; cat "$work/z"; printf '\r\n\r\n{}'; } > "$work/big"
	add "$work/big" '\011\377\377\377\377'
	;;
*)
	echo "seed.sh: no seeds for '$name'" >&2
	exit 2
	;;
esac
