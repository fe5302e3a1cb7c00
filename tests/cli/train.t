#!/bin/sh
# mlde-train from the command line: it learns a tiny world, it is
# deterministic, and every bad input fails cleanly, leaving no model behind.
. "$(dirname "$0")/../lib.sh"

SYN='usage: mlde-train \[-qv\] \[--init MODEL\] -o MODEL \[--epochs E\] \[--lr X\]'

run mlde-train --help
is "$status" 0 "--help: status 0"
like out "$SYN" "--help: the synopsis on stdout"
like out "--threads T" "--help: the options"
run mlde-train --version
is "$status" 0 "--version: status 0"
like out '^mlde-train \(mlde\) [0-9]' "--version: name and version"
run mlde-train --bogus
is "$status" 2 "unknown option: status 2"
like err "unknown option '--bogus'" "unknown option: named"
like err "$SYN" "unknown option: the synopsis on stderr"
run mlde-train --epochs 2 /dev/null
is "$status" 2 "no -o: status 2"
like err "-o MODEL is required" "no -o: said so"
run mlde-train -o m --epochs x /dev/null
is "$status" 2 "a bad number: status 2"
like err "--epochs: 'x' is not an integer" "a bad number: named"
run mlde-train -o m --arch c9=3 /dev/null
is "$status" 2 "a bad --arch key: status 2"

# A tiny world of one question type: the background.  Chance is 0.25.
mlde-world -q --seed 3 --out w --images 10 --base 400 --val 10 --test 360 \
	--mix scene_understanding=1
zstd -dcq w/test.jsonl.zst | jq -c 'select(.type == "scene_understanding")' > test.jsonl
run mlde-train -o m1 --images w --epochs 4 --batch 16 --seed 5 w/base.jsonl.zst
is "$status" 0 "training: status 0"
like err '400 items, 400 images, 4 epochs in [0-9.]+ s: [0-9]+ samples/s' \
	"training: one summary line"
is "$(wc -l < err | tr -d ' ')" 1 "training: only that line when stderr is not a terminal"
holds "training: the model written, no .tmp left" test -f m1 -a ! -e m1.tmp

# --bench: sgemm timed on both sides of the training, the ratio against
# their mean
run mlde-train -o mb --images w --epochs 1 --batch 16 --seed 5 --bench w/base.jsonl.zst
is "$status" 0 "--bench: status 0"
like err 'sgemm alone on 1 thread: [0-9.]+ GFLOP/s \([0-9.]+ before the training, [0-9.]+ after\); training reached [0-9.]+% of it' \
	"--bench: sgemm before and after, and the fraction"
is "$(sed -n 's/.*: \([0-9.]*\) GFLOP\/s (\([0-9.]*\) before the training, \([0-9.]*\) after).*/\1 \2 \3/p' err |
	awk '{ d = $1 - ($2 + $3) / 2; print (d < 0.051 && d > -0.051) }')" 1 \
	"--bench: the peer is the mean of the two"
is "$(sed -n 's/.* \([0-9.]*\) GFLOP\/s; last epoch.*/\1/p; s/.*: \([0-9.]*\) GFLOP\/s (.*reached \([0-9.]*\)% of it/\1 \2/p' err |
	tr '\n' ' ' | awk '{ d = 100 * $1 / $2 - $3; print (d < 0.2 && d > -0.2) }')" 1 \
	"--bench: the fraction is the training's rate over the peer's"
mlde-eval -m m1 --images w test.jsonl > ev 2> everr
acc=$(zstd -dcf ev | jq -s 'map(select(.correct)) | length / 40')
is "$(awk -v a="$acc" 'BEGIN { print (a >= 0.8) }')" 1 \
	"training: test accuracy $acc, far above chance (0.25)"

# metadata: the file alone says how to run it, and how it was made
for k in '"format":"mlde-mc-1"' '"image_size":"64"' '"text_hash":"fnv1a64"' \
	'"train_seed":"5"' '"train_epochs":"4"' '"train_items":"400"' '"word_buckets":"'; do
	holds "metadata: $k" grep -aq "$k" m1
done

# determinism: same items, seed and threads, same bytes
mlde-train -q -o m2 --images w --epochs 4 --batch 16 --seed 5 w/base.jsonl.zst
same m1 m2 "same seed and threads: the same model, byte for byte"
mlde-train -q -o m3 --images w --epochs 1 --batch 16 --seed 6 w/base.jsonl.zst
mlde-train -q -o m4 --images w --epochs 1 --batch 16 --seed 7 w/base.jsonl.zst
holds "another seed: another model" not cmp -s m3 m4
mlde-train -q -o t1 --images w --epochs 1 --threads 2 --seed 6 w/base.jsonl.zst
mlde-train -q -o t2 --images w --epochs 1 --threads 2 --seed 6 w/base.jsonl.zst
same t1 t2 "two threads: the same model, byte for byte"
zstd -dcq w/base.jsonl.zst > base.jsonl
mlde-train -q -o m5 --images w --epochs 1 --batch 16 --seed 6 - < base.jsonl
same m3 m5 "plain stdin and zstd file: the same model"
mlde-train -q -o s0 --images w --epochs 1 --batch 16 --seed 6 --shift 0 w/base.jsonl.zst
holds "--shift 0: another model than the default shift 2" not cmp -s m3 s0
holds "--shift: recorded in the metadata" grep -aq '"train_shift":"0"' s0
run mlde-train -o s9 --images w --shift 9 w/base.jsonl.zst
is "$status" 2 "--shift 9: beyond 8, usage status"

# --init fine-tunes: the architecture comes from the earlier model
run mlde-train --init m1 -o f1 --arch c1=8 w/base.jsonl.zst
is "$status" 2 "--init and --arch: status 2"
run mlde-train --init m1 -o f1 --images w --epochs 1 --seed 5 w/base.jsonl.zst
is "$status" 0 "--init: status 0"
like err '400 items' "--init: trained"
holds "--init: recorded in the metadata" grep -aq '"train_init":"m1"' f1
mlde-train -q --init m1 -o f2 --images w --epochs 1 --seed 5 w/base.jsonl.zst
same f1 f2 "--init: deterministic too"
run mlde-train --init m1 -o f0 --images w --epochs 0 w/base.jsonl.zst
is "$status" 0 "--epochs 0: status 0"

# --old and --replay: old items beside the new, all of them or a seeded
# draw of N an epoch
run mlde-train --help
like out "--replay N" "--help: --replay"
like out "--old FILE" "--help: --old"
run mlde-train -o r --replay x w/base.jsonl.zst
is "$status" 2 "--replay x: usage status"
like err "--replay: 'x' is not an integer" "--replay x: named"
run mlde-train -o r --replay -1 w/base.jsonl.zst
is "$status" 2 "--replay -1: usage status"
head -300 base.jsonl > old.jsonl
tail -100 base.jsonl > new.jsonl
run mlde-train -o r1 --images w --epochs 2 --batch 16 --seed 6 --old old.jsonl --replay 50 new.jsonl
is "$status" 0 "--replay 50: status 0"
like err '^mlde-train: 400 items \(150 an epoch: 50 of 300 old replayed\), 400 images, 2 epochs' \
	"--replay 50: 150 items an epoch, said so"
holds "--replay: recorded in the metadata" grep -aq '"train_replay":"50"' r1
holds "--replay: all the items read in train_items" grep -aq '"train_items":"400"' r1
mlde-train -q -o r2 --images w --epochs 2 --batch 16 --seed 6 --old old.jsonl --replay 50 new.jsonl
same r1 r2 "--replay: the same draws, the same model"
mlde-train -q -o r3 --images w --epochs 2 --batch 16 --seed 6 new.jsonl
holds "--replay 50: another model than the new items alone" not cmp -s r1 r3
mlde-train -q -o r4 --images w --epochs 2 --batch 16 --seed 6 --old old.jsonl new.jsonl
mlde-train -q -o r5 --images w --epochs 2 --batch 16 --seed 6 old.jsonl new.jsonl
same r4 r5 "--old without --replay: every old item, as a FILE before the others"
holds "--replay 50: another model than every old item" not cmp -s r1 r4
# a replay of at least every old item trains on them all: the same scores
mlde-train -q -o r6 --images w --epochs 2 --batch 16 --seed 6 --old old.jsonl --replay 300 new.jsonl
mlde-eval -q -m r4 --images w -Z -o r4.eval test.jsonl
mlde-eval -q -m r6 --images w -Z -o r6.eval test.jsonl
is "$(jq -c .scores r6.eval | cksum)" "$(jq -c .scores r4.eval | cksum)" \
	"--replay 300 of 300 old: the same scores as all of them"
run mlde-train -o r7 --images w --epochs 1 --old old.jsonl --replay 0 /dev/null
is "$status" 1 "--replay 0 and no new items: status 1"
like err 'no items to train on' "--replay 0 and no new items: said so"

# --freeze-stem 3: the stem keeps what the --init model learned, so the
# image embedding (the stem's output) is the same; the rest is trained
run mlde-train --help
like out "--freeze-stem L" "--help: --freeze-stem"
run mlde-train -o f1 --images w --epochs 1 --freeze-stem 4 new.jsonl
is "$status" 2 "--freeze-stem 4: usage status"
like err '--freeze-stem: 4 is out of range \(0 to 3\)' "--freeze-stem 4: named, with the range"
run mlde-train -o f1 --images w --epochs 1 --batch 16 --seed 6 --init m1 --freeze-stem 3 new.jsonl
is "$status" 0 "--freeze-stem 3: status 0"
holds "--freeze-stem: recorded in the metadata" grep -aq '"train_frozen_stem":"3"' f1
mlde-train -q -o f2 --images w --epochs 1 --batch 16 --seed 6 --init m1 new.jsonl
mlde-eval -q -m m1 --images w --embed -Z -o m1.emb test.jsonl
mlde-eval -q -m f1 --images w --embed -Z -o f1.emb test.jsonl
mlde-eval -q -m f2 --images w --embed -Z -o f2.emb test.jsonl
is "$(jq -c .embedding f1.emb | cksum)" "$(jq -c .embedding m1.emb | cksum)" \
	"--freeze-stem: the image embedding is the --init model's"
holds "without --freeze-stem the embedding moves" not cmp -s m1.emb f2.emb
mlde-eval -q -m m1 --images w -Z -o m1.eval test.jsonl
mlde-eval -q -m f1 --images w -Z -o f1.eval test.jsonl
holds "--freeze-stem: the scores move (the rest was trained)" \
	test "$(jq -c .scores f1.eval | cksum)" != "$(jq -c .scores m1.eval | cksum)"
mlde-train -q -o f3 --images w --epochs 1 --batch 16 --seed 6 --init m1 --freeze-stem 3 new.jsonl
same f1 f3 "--freeze-stem: the same model again"
# two of three frozen: the last convolution learns, so the embedding moves
mlde-train -q -o f4 --images w --epochs 1 --batch 16 --seed 6 --init m1 --freeze-stem 2 new.jsonl
mlde-eval -q -m f4 --images w --embed -Z -o f4.emb test.jsonl
holds "--freeze-stem 2: the embedding moves" not cmp -s m1.emb f4.emb
holds "--freeze-stem 2: another model than 3" not cmp -s f1 f4

# ---- bad input: a clear message, a non-zero status, no model left ----
img=$(zstd -dcq w/base.jsonl.zst | head -1 | jq -r .image)
bad_images "w/$img"
png 100 80 bad/odd.png

# bad CASE STATUS PATTERN: train on the items in CASE.jsonl
bad() {
	rm -f model model.tmp
	run mlde-train -o model --images bad --epochs 1 "$1.jsonl"
	is "$status" "$2" "$1: status $2"
	like err "$3" "$1: the message names the problem"
	holds "$1: no model and no model.tmp left" test ! -e model -a ! -e model.tmp
}
{ item good.png; item missing.png; } > missing.jsonl
bad missing 3 '^mlde-train: missing.jsonl:2: bad/missing.png: No such file'
{ item good.png; item text.png; } > notpng.jsonl
bad notpng 1 '^mlde-train: notpng.jsonl:2: bad/text.png: not a PNG'
item short.png > truncated.jsonl
bad truncated 1 '^mlde-train: truncated.jsonl:1: bad/short.png: .*(truncated|bad PNG)'
item huge.png > oversized.jsonl
bad oversized 1 '^mlde-train: oversized.jsonl:1: bad/huge.png: .*5000'
{ item good.png; item good.png '["only one"]'; } > oneoption.jsonl
bad oneoption 1 "^mlde-train: oneoption.jsonl:2: field 'options': 1 option \(2 to 8 needed\)"
item good.png '["a","b","c"]' 3 > range.jsonl
bad range 1 "^mlde-train: range.jsonl:1: field 'answer': 3 is out of range"
item good.png '["a","b","c"]' -1 > negative.jsonl
bad negative 1 "field 'answer': -1 is out of range"
item good.png '["a","b","c"]' 1.5 > fraction.jsonl
bad fraction 1 "field 'answer': 1.5 is not an integer"
item good.png '["a",2,"c"]' > nonstring.jsonl
bad nonstring 1 "field 'options': option 1 is number"
echo '{"image":"good.png","options":["a","b"],"answer":0}' > noquestion.jsonl
bad noquestion 1 "noquestion.jsonl:1: field 'question': missing"
{ item good.png; echo '{"image": oops}'; } > badjson.jsonl
bad badjson 1 '^mlde-train: badjson.jsonl:2: invalid JSON'
: > empty.jsonl
bad empty 1 'no items to train on'

# a bad item on the last line of the second file, once the first file's
# items are in: status 1, its FILE:LINE, and no model or model.tmp
{ item good.png; item good.png; } > first.jsonl
{ item good.png; item good.png; item good.png '["a","b"]' 2; } > second.jsonl
rm -f model model.tmp
run mlde-train -o model --images bad --epochs 1 first.jsonl second.jsonl
is "$status:$(wc -l < err | tr -d ' ')" "1:1" "second.jsonl after first.jsonl: status 1, one line"
like err "^mlde-train: second.jsonl:3: field 'answer': 2 is out of range" "  naming second.jsonl:3"
holds "  no model and no model.tmp left" test ! -e model -a ! -e model.tmp

# a picture of another size is resized, not refused
item odd.png > odd.jsonl
run mlde-train -q -o oddm --images bad --epochs 1 odd.jsonl
is "$status" 0 "an image of another size (100x80) is resized"

# a bad or lying model for --init
item good.png > one.jsonl
badinit() {
	rm -f model model.tmp
	run mlde-train --init "$1" -o model --images bad one.jsonl
	is "$status" "$2" "--init $1: status $2"
	like err "^mlde-train: $1: $3" "--init $1: the message names the file"
	holds "--init $1: no model left" test ! -e model -a ! -e model.tmp
}
badinit nosuch.model 3 'No such file'
printf 'hello' > tiny.model
badinit tiny.model 1 'not a safetensors file'
# the header claims 1000 bytes more than the file has
perl -e '
open my $f, "<:raw", "m1" or die; local $/; my $b = <$f>;
my $n = unpack("Q<", substr($b, 0, 8));
open my $l, ">:raw", "long.model" or die; print $l pack("Q<", $n + 1000) . substr($b, 8);
open my $c, ">:raw", "cut.model" or die; print $c substr($b, 0, length($b) - 4);'
badinit long.model 1 'NUL byte in the header .*is the header length .* right'
badinit cut.model 1 "tensor '.*': data_offsets .* outside the .* data bytes"
cp base.jsonl notamodel.model
badinit notamodel.model 1 'header length .* too large|past the end|not a safetensors'

# an output that cannot be written
run mlde-train -o nodir/model --images bad --epochs 1 one.jsonl
is "$status" 3 "unwritable output: status 3"
like err 'nodir/model' "unwritable output: named"

# a write error in the middle of the model (a file size limit whose signal
# is ignored, so write fails with EFBIG): status 3, no model, no model.tmp
rm -f model model.tmp
run sh -c 'trap "" XFSZ; ulimit -f 4; exec mlde-train -q -o model --images bad --epochs 1 one.jsonl'
is "$status" 3 "a write error while saving: I/O status"
like err "^mlde-train: model" "  naming the model"
holds "  no model and no model.tmp left" test ! -e model -a ! -e model.tmp

done_testing
