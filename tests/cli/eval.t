#!/bin/sh
# mlde-eval from the command line: eval records, the summary, --embed on
# items and pool records, determinism, and every bad input.
. "$(dirname "$0")/../lib.sh"

SYN='usage: mlde-eval \[-qvZ\] \[-o FILE\] \[-LEVEL\] -m MODEL \[--images DIR\] \[--embed\]'

run mlde-eval --help
is "$status" 0 "--help: status 0"
like out "$SYN" "--help: the synopsis on stdout"
run mlde-eval --version
is "$status" 0 "--version: status 0"
like out '^mlde-eval \(mlde\) [0-9]' "--version: name and version"
run mlde-eval --bogus
is "$status" 2 "unknown option: status 2"
like err "unknown option '--bogus'" "unknown option: named"
like err "$SYN" "unknown option: the synopsis on stderr"
run mlde-eval /dev/null
is "$status" 2 "no -m: status 2"
like err "-m MODEL is required" "no -m: said so"

mlde-world -q --seed 4 --out w --images 12 --base 300 --val 10 --test 90 \
	--mix scene_understanding=1
mlde-train -q -o model.st --images w --epochs 2 --batch 16 w/base.jsonl.zst
zstd -dcq w/test.jsonl.zst | jq -c '. + {mine: [1, "x"]}' > test.jsonl

run mlde-eval -m model.st --images w -o ev.zst test.jsonl
is "$status" 0 "eval: status 0"
holds "eval: zstd output" zstd -tq ev.zst
zstd -dcq ev.zst > ev.jsonl
is "$(wc -l < ev.jsonl | tr -d ' ')" 90 "eval: one record per item"
is "$(jq -c '[.id, .mine]' ev.jsonl | head -1)" "$(jq -c '[.id, .mine]' test.jsonl | head -1)" \
	"eval: item fields passed through, unknown ones too"
is "$(jq -r '[(.pred | type), (.correct | type), (.scores | length), .model] | join(" ")' \
	ev.jsonl | sort -u)" "number boolean 4 model.st" \
	"eval: pred, correct, 4 scores and the model's name on every record"
is "$(jq -r 'select((.scores | add) < 0.99 or (.scores | add) > 1.01) | .id' ev.jsonl)" "" \
	"eval: scores are probabilities"
is "$(jq -r 'select(.scores[.pred] < (.scores | max)) | .id' ev.jsonl)" "" \
	"eval: pred is the best-scored option"
is "$(jq -r 'select(.correct != (.pred == .answer)) | .id' ev.jsonl)" "" \
	"eval: correct means pred == answer"
like err '^mlde-eval: 90 items, accuracy [01]\.[0-9]{4} \([0-9]+ correct\)' \
	"eval: overall accuracy on stderr"
like err '^mlde-eval:   scene_understanding +[01]\.[0-9]{4}  \([0-9]+/10\)' \
	"eval: per-type accuracy on stderr"
is "$(grep -c '^mlde-eval:   ' err)" 9 "eval: a line for each of the 9 types"
acc=$(jq -s 'map(select(.type == "scene_understanding" and .correct)) | length' ev.jsonl)
holds "eval: the background is learnt ($acc of 10)" test "$acc" -ge 8

# determinism, whatever the batching and the threads
mlde-eval -q -m model.st --images w test.jsonl > ev2.zst
same ev.zst ev2.zst "eval: the same output twice"
mlde-eval -q -m model.st --images w --batch 7 test.jsonl > ev3.zst
same ev.zst ev3.zst "eval: batches of 7, the same output"
mlde-eval -q -m model.st --images w --threads 2 --batch 20 test.jsonl > ev4.zst
same ev.zst ev4.zst "eval: two threads, the same output"
run mlde-eval -q -Z -m model.st --images w test.jsonl
is "$(head -c 1 out)" "{" "eval: -Z writes plain JSON Lines"
mlde-eval -q --backend builtin -m model.st --images w test.jsonl > ev5.zst
same ev.zst ev5.zst "eval: --backend builtin is the default, the same output"
run mlde-eval --backend builtin -m model.st --images w --logprobs 3 test.jsonl
is "$status:$(head -1 err)" "2:mlde-eval: --logprobs is an option of --backend http" \
	"eval: an http option with the builtin model is a usage error"

# --embed: items and pool records
run mlde-eval -Z -m model.st --images w --embed test.jsonl
is "$status" 0 "--embed: status 0"
is "$(jq '.embedding | length' out | sort -u)" 128 "--embed: a 128-number embedding per item"
holds "--embed: still pred and scores" test "$(jq -r '.pred | type' out | sort -u)" = number
zstd -dcq w/pool.jsonl.zst > pool.jsonl
run mlde-eval -Z -m model.st --images w --embed pool.jsonl
is "$status" 0 "--embed, pool records: status 0"
is "$(jq -r '[has("pred"), (.embedding | length)] | join(" ")' out | sort -u)" "false 128" \
	"--embed, pool records: an embedding and no prediction"
like err '12 image-only records embedded' "--embed, pool records: counted on stderr"
# the members build and write the records of their share side by side:
# items and pool records mixed, 1 and 3 threads and batches that do not
# split evenly give the same bytes and the same summary
cat pool.jsonl test.jsonl pool.jsonl > mixed.jsonl
mlde-eval -m model.st --images w --embed --threads 1 -o mixed1.zst mixed.jsonl 2> mixed1.err
mlde-eval -m model.st --images w --embed --threads 3 --batch 17 -o mixed3.zst mixed.jsonl 2> mixed3.err
same mixed1.zst mixed3.zst "--embed, items among pool records: 3 threads, batches of 17, the same bytes as 1"
is "$(cat mixed3.err)" "$(cat mixed1.err)" "  and the same summary"
like mixed1.err '24 image-only records embedded' "  the pool records counted, both times"
is "$(zstd -dcq mixed1.zst | jq -r 'if has("pred") then "item" else "pool" end' | uniq -c | \
	awk '{ print $1 }' | tr '\n' ' ')" "12 90 12 " "  in the input's order"
run mlde-eval -Z -m model.st --images w pool.jsonl
is "$status" 1 "pool records without --embed: status 1"
like err "pool.jsonl:1: field 'question': missing \(use --embed for pool records\)" \
	"pool records without --embed: said so"
# the hint follows what the check found, not the text of its message
head -1 test.jsonl | jq -c '.image = 5' > "q 'question': missing.jsonl"
run mlde-eval -Z -m model.st --images w "q 'question': missing.jsonl"
is "$status" 1 "a bad image field: status 1"
like err "field 'image': expected string, got number$" "a bad image field: no --embed hint, whatever the file's name"
head -1 test.jsonl | jq -c '.question = null' > qnull.jsonl
run mlde-eval -Z -m model.st --images w qnull.jsonl
like err "qnull.jsonl:1: field 'question': expected string, got null$" "a null question: no --embed hint"

# the summary has a line for every type, however many (once capped at 4,096)
head -1 test.jsonl > one.jsonl
for i in $(seq 0 4099); do echo "$i"; done | jq -c --slurpfile r one.jsonl \
	'$r[0] + {type: ("t" + ((1000000 + .) | tostring))}' > many.jsonl
run mlde-eval -Z -m model.st --images w many.jsonl
is "$status" 0 "4,100 types: status 0"
is "$(grep -c '^mlde-eval:   t1' err)" 4100 "4,100 types: a summary line for each"
like err "^mlde-eval:   t1004099 " "4,100 types: the last one too"

# an image given inline as a data: URI is the same image
head -1 test.jsonl > one-file.jsonl
uri="data:image/png;base64,$(base64 -w0 "w/$(jq -r .image one-file.jsonl)")"
jq -c --arg u "$uri" '.image = $u' one-file.jsonl > one-uri.jsonl
a=$(mlde-eval -q -Z -m model.st --images w one-file.jsonl | jq -c .scores)
b=$(mlde-eval -q -Z -m model.st --images w one-uri.jsonl | jq -c .scores)
is "$b" "$a" "a data: URI image scores as its file does"

# ---- bad input: a clear message, a non-zero status, no output left ----
img=$(head -1 test.jsonl | jq -r .image)
bad_images "w/$img"

bad() {  # bad CASE STATUS PATTERN: evaluate CASE.jsonl into out.zst
	rm -f out.zst out.zst.tmp
	run mlde-eval -m model.st --images bad -o out.zst "$1.jsonl"
	is "$status" "$2" "$1: status $2"
	like err "$3" "$1: the message names the problem"
	holds "$1: no output and no .tmp left" test ! -e out.zst -a ! -e out.zst.tmp
}
{ item good.png; item missing.png; } > missing.jsonl
bad missing 3 '^mlde-eval: missing.jsonl:2: bad/missing.png: No such file'
{ item good.png; item text.png; } > notpng.jsonl
bad notpng 1 '^mlde-eval: notpng.jsonl:2: bad/text.png: not a PNG'
item short.png > truncated.jsonl
bad truncated 1 '^mlde-eval: truncated.jsonl:1: bad/short.png: .*(truncated|bad PNG)'
item huge.png > oversized.jsonl
bad oversized 1 '^mlde-eval: oversized.jsonl:1: bad/huge.png: .*5000'
{ item good.png; item good.png '["only one"]'; } > oneoption.jsonl
bad oneoption 1 "^mlde-eval: oneoption.jsonl:2: field 'options': 1 option \(2 to 8 needed\)"
item good.png '["a","b","c","d","e","f","g","h","i"]' > nine.jsonl
bad nine 1 "field 'options': 9 options \(2 to 8 needed\)"
item good.png '["a","b","c"]' 7 > range.jsonl
bad range 1 "^mlde-eval: range.jsonl:1: field 'answer': 7 is out of range"
echo '{"image":"good.png","question":"q","options":["a","b"]}' > noanswer.jsonl
bad noanswer 1 "noanswer.jsonl:1: field 'answer': missing"
echo '{"question":"q","options":["a","b"],"answer":0}' > noimage.jsonl
bad noimage 1 "noimage.jsonl:1: field 'image': missing"
{ item good.png; echo '{"image": oops}'; } > badjson.jsonl
bad badjson 1 '^mlde-eval: badjson.jsonl:2: invalid JSON'
item 'data:image/png;base64,@@@@' > baduri.jsonl
bad baduri 1 '^mlde-eval: baduri.jsonl:1: data: URI: bad base64'
# a bad record after the first batch was written (900 good items, then
# one with no answer): the same message, and the output given up
for i in 1 2 3 4 5 6 7 8 9 10; do cat test.jsonl; done > late.jsonl
echo '{"image":"good.png","question":"q","options":["a","b"]}' >> late.jsonl
rm -f late.zst late.zst.tmp
run mlde-eval -m model.st --images w -o late.zst late.jsonl
is "$status" 1 "a bad record after 900 good ones: status 1"
is "$(cat err)" "mlde-eval: late.jsonl:901: field 'answer': missing" \
	"a bad record after 900 good ones: FILE:LINE, and nothing else on stderr"
holds "a bad record after 900 good ones: neither FILE nor FILE.tmp left" \
	test ! -e late.zst -a ! -e late.zst.tmp
run sh -c 'mlde-eval -Z -m model.st --images w late.jsonl > late.jsonl.out'
is "$(wc -l < late.jsonl.out | tr -d ' ')" 512 \
	"  (the first batch of 512 was written before the bad record was read)"

# a bad or lying model
item good.png > one.jsonl
badmodel() {
	rm -f out.zst out.zst.tmp
	run mlde-eval -m "$1" --images bad -o out.zst one.jsonl
	is "$status" "$2" "-m $1: status $2"
	like err "^mlde-eval: $1: $3" "-m $1: the message names the file"
	holds "-m $1: no output left" test ! -e out.zst -a ! -e out.zst.tmp
}
badmodel nosuch.st 3 'No such file'
printf 'hello' > tiny.st
badmodel tiny.st 1 'not a safetensors file'
perl -e '
open my $f, "<:raw", "model.st" or die; local $/; my $b = <$f>;
my $n = unpack("Q<", substr($b, 0, 8));
open my $l, ">:raw", "long.st" or die; print $l pack("Q<", $n + 1000) . substr($b, 8);
open my $c, ">:raw", "cut.st" or die; print $c substr($b, 0, length($b) - 4);
(my $h = substr($b, 8, $n)) =~ s/"word_dim":"64"/"word_dim":"65"/;
open my $x, ">:raw", "lie.st" or die; print $x substr($b, 0, 8) . $h . substr($b, 8 + $n);'
badmodel long.st 1 'NUL byte in the header'
badmodel cut.st 1 "tensor '.*': data_offsets .* outside the .* data bytes"
badmodel lie.st 1 "tensor '.*' has the wrong shape for the metadata"
cp test.jsonl notamodel.st
badmodel notamodel.st 1 'too large|past the end|not a safetensors'

done_testing
