#!/bin/sh
# mlde-world from the command line: determinism, the four files and their
# counts, the shape of every item, balance, no image shared between the
# training side and the benchmark side, the mixes, and bad options.  Every
# answer is recomputed from the annotations in tests/unit/test-world.c.
. "$(dirname "$0")/../lib.sh"

TYPES="instance_attributes instance_identity instance_interaction instance_location
instances_counting scene_understanding spatial_relation text_understanding visual_reasoning"

small="--images 40 --base 180 --val 90 --test 45"
sums() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum); }
items() { zstd -dc "$1" 2>/dev/null; }

run mlde-world --seed 1 --out a $small
is "$status" 0 "a small world: status 0"
like err "^mlde-world: 40 pool images, 180 base, 90 val and 45 test items in a$" "summary on stderr"
is "$(cat out)" "" "nothing on stdout"
is "$(ls a | tr '\n' ' ')" "base.jsonl.zst images pool.jsonl.zst test.jsonl.zst val.jsonl.zst " \
	"the four files and images/"
is "$(ls a/images | wc -l | tr -d ' ')" 355 "one image per pool record and per item"
is "$(find a -name '*.tmp' | wc -l | tr -d ' ')" 0 "no .tmp file left"
for f in pool:40 base:180 val:90 test:45; do
	is "$(items a/${f%:*}.jsonl.zst | wc -l | tr -d ' ')" "${f#*:}" "${f%:*}: ${f#*:} records"
done

run mlde-world --seed 1 --out b $small
sums a > a.sum
sums b > b.sum
same a.sum b.sum "same seed and options: every file byte-identical"
run mlde-world --seed 1 --out t2 $small --threads 2
sums t2 > t2.sum
same a.sum t2.sum "--threads 2: the same bytes as one thread"
run mlde-world --seed 1 --out t3 $small --threads 3 -v -v
sums t3 > t3.sum
same a.sum t3.sum "--threads 3: the same bytes"
sed 's/t3/t1/g' err > t3.err
run mlde-world --seed 1 --out t1 $small -v -v
is "$(cat t3.err)" "$(cat err)" "  and the same messages, in the same order"
run mlde-world --seed 2 --out c $small
differ=0
for f in pool base val test; do
	cmp -s a/$f.jsonl.zst c/$f.jsonl.zst || differ=$((differ + 1))
done
is "$differ" 4 "another seed: another pool, base, val and test"
run mlde-world --seed 1 --out d --images 40 --base 60 --val 90 --test 45
same a/val.jsonl.zst d/val.jsonl.zst "val does not change with --base"

# items: DESIGN.md's shape, 4 options, answer in range, the image exists
cat a/base.jsonl.zst a/val.jsonl.zst a/test.jsonl.zst | zstd -dc > all.jsonl
jq -r 'select((.id | type) != "string" or (.question | type) != "string"
	or (.options | length) != 4 or (.options | map(type == "string") | all | not)
	or (.options | unique | length) != 4
	or (.answer | type) != "number" or .answer != (.answer | floor)
	or .answer < 0 or .answer > 3 or .source != "world"
	or (.image | test("^images/(base|val|test)-[0-9]{6}\\.png$") | not)) | .id' \
	all.jsonl > malformed
is "$(wc -l < malformed | tr -d ' ')" 0 "every item: id, question, 4 distinct options, answer 0..3"
jq -r .image all.jsonl | sort -u > used
is "$(wc -l < used | tr -d ' ')" 315 "every item its own image"
is "$(cd a && xargs ls < ../used 2>&1 >/dev/null | wc -l | tr -d ' ')" 0 "every image exists"
is "$(jq -r .id all.jsonl | sort -u | wc -l | tr -d ' ')" 315 "ids are unique"
is "$(jq -r .type all.jsonl | sort -u | tr '\n' ' ')" "$(echo $TYPES | tr ' ' '\n' | sort | tr '\n' ' ')" \
	"the nine types"

# the correct option's position is uniform: with 315 items, none under 50
jq -r .answer all.jsonl | sort | uniq -c | awk '$1 < 50 { bad++ } END { print NR, bad + 0 }' > pos
is "$(cat pos)" "4 0" "answers spread over the four positions"

for set in val:10 test:5; do
	items a/${set%:*}.jsonl.zst | jq -r .type | sort | uniq -c | awk '{print $1}' | sort -u > per
	is "$(cat per)" "${set#*:}" "${set%:*}: balanced, ${set#*:} of each type"
done
items a/base.jsonl.zst | jq -r .type | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ' > mix
is "$(cat mix)" "instance_attributes=37 instance_identity=25 instance_interaction=6 instance_location=37 instances_counting=13 scene_understanding=37 spatial_relation=13 text_understanding=6 visual_reasoning=6 " \
	"base: the default uneven mix (3 3 3 2 1 1 0.5 0.5 0.5 of 14.5: floors, then the largest remainders)"

# pool records: image, captions, objects with bbox fractions, background, text
items a/pool.jsonl.zst > pool.jsonl
jq -r 'select((.image | test("^images/pool-[0-9]{6}\\.png$") | not)
	or (.captions | length) < 2 or (.objects | length) < 1
	or (.objects | map((.bbox | length) == 4 and (.bbox | map(. >= 0 and . <= 1) | all)
		and (.name | type) == "string" and (.color | type) == "string"
		and (.size == "small" or .size == "large")) | all | not)
	or (.background | type) != "string" or has("text") != true) | .image' \
	pool.jsonl > malformed
is "$(wc -l < malformed | tr -d ' ')" 0 "pool records: image, captions, objects, background, text"

# a scene with a letter and no shapes: its caption says what the image shows
run mlde-world --seed 1 --out e --images 200 --base 1 --val 1 --test 1
items e/pool.jsonl.zst | jq -r 'select(.objects == [])
	| [.captions[1], "The image shows the letter \(.text) on a \(.background) background."]
	| if .[0] == .[1] then "ok" else "bad: \(.[0])" end' > empty.txt
like empty.txt "^ok$" "a scene with no shapes (seed 1 has some) is captioned with its letter"
is "$(grep -vc '^ok$' empty.txt)" 0 "every scene with no shapes names its letter and background"
is "$(items e/pool.jsonl.zst | jq -r '.captions[]' | grep -c '^The image shows\.$')" 0 \
	"no caption \"The image shows.\" with nothing after it"

# no benchmark leakage: no val or test image in the pool or base, by name
# or by content
(cd a && jq -r .image < ../pool.jsonl; items base.jsonl.zst | jq -r .image) | sort > train.names
(items a/val.jsonl.zst; items a/test.jsonl.zst) | jq -r .image | sort > bench.names
is "$(comm -12 train.names bench.names | wc -l | tr -d ' ')" 0 "no val/test image named in pool/base"
(cd a && xargs sha256sum < ../train.names) | awk '{print $1}' | sort -u > train.sha
(cd a && xargs sha256sum < ../bench.names) | awk '{print $1}' | sort -u > bench.sha
is "$(comm -12 train.sha bench.sha | wc -l | tr -d ' ')" 0 "no val/test image's pixels in pool/base"

# --annotate: the item's scene; a few answers checked straight from it
run mlde-world --seed 1 --out e --images 1 --base 0 --val 270 --test 0 --annotate
items e/val.jsonl.zst > ann.jsonl
is "$(jq -r 'select(.scene.image != .image) | .id' ann.jsonl | wc -l | tr -d ' ')" 0 \
	"--annotate: every item carries its scene"
is "$(jq -r 'select(.type == "scene_understanding" and .options[.answer] != .scene.background) | .id' \
	ann.jsonl | wc -l | tr -d ' ')" 0 "scene_understanding: the answer is the background"
is "$(jq -r 'select(.type == "text_understanding" and .options[.answer] != .scene.text) | .id' \
	ann.jsonl | wc -l | tr -d ' ')" 0 "text_understanding: the answer is the text"
is "$(jq -r 'select(.type == "instances_counting")
	| (.question | capture("(?<w>circle|square|triangle|cross)e?s\\b") | .w) as $s
	| select(.options[.answer] != ([.scene.objects[] | select(.name == $s)] | length | tostring))
	| .id' ann.jsonl | wc -l | tr -d ' ')" 0 "instances_counting by shape: the answer is the count"
items e/base.jsonl.zst > base.jsonl
is "$(wc -c < base.jsonl | tr -d ' ')" 0 "--base 0: an empty base set"

# a val or test image that stays equal to a pool or base image through
# every redraw: a loud failure (status 5, a message), and no set file that
# looks finished; MLDE_WORLD_TEST_LEAK makes every image count as seen
run env MLDE_WORLD_TEST_LEAK=1 mlde-world --seed 1 --out leak --images 2 --base 2 --val 1 --test 1
is "$status" 5 "a val image like a pool or base image after every redraw: status 5"
like err "^mlde-world: val-000000: 1001 draws in a row gave the image of a pool or base item \(a benchmark leak\): no set written$" \
	"the leak: named, with the item"
is "$(ls leak | tr '\n' ' ')" "images " "the leak: no set file, finished or .tmp (pool and base neither)"
run env MLDE_WORLD_TEST_LEAK=1 mlde-world --seed 1 --out noleak --images 2 --base 2 --val 0 --test 0
is "$status" 0 "no val or test item: nothing to redraw, status 0"

# an image that cannot be written in the middle of the base set (a
# directory in its place), after the pool and five base items: status 3,
# the file named, and no set file left, finished or .tmp
mkdir -p mid/images/base-000005.png
run mlde-world --seed 1 --out mid --images 3 --base 10 --val 2 --test 2
is "$status" 3 "an image that cannot be written mid-run: status 3"
is "$(cat err)" "mlde-world: mid/images/base-000005.png: Is a directory" \
	"an image that cannot be written mid-run: named, and nothing else on stderr"
is "$(ls mid | tr '\n' ' ')" "images " "an image that cannot be written mid-run: no set file, finished or .tmp"
is "$(find mid -name '*.tmp' | wc -l | tr -d ' ')" 0 "  no image .tmp either"

# --mix
run mlde-world --seed 1 --out f --images 1 --base 90 --val 0 --test 0 --mix uniform
items f/base.jsonl.zst | jq -r .type | sort | uniq -c | awk '{print $1}' | sort -u > per
is "$(cat per)" 10 "--mix uniform: 10 of each type"
run mlde-world --seed 1 --out g --images 1 --base 30 --val 0 --test 0 \
	--mix text_understanding=1,spatial_relation=2
items g/base.jsonl.zst | jq -r .type | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ' > mix
is "$(cat mix)" "spatial_relation=20 text_understanding=10 " "--mix TYPE=W: only those, by weight"
run mlde-world --seed 1 --out g2 --images 1 --base 6 --val 0 --test 0 \
	--mix instance_identity=1,instance_attributes=3
items g2/base.jsonl.zst | jq -r .type | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ' > mix
is "$(cat mix)" "instance_attributes=5 instance_identity=1 " \
	"--mix: equal remainders (1.5 and 4.5) go to the larger weight, as mlde-sample's quotas"

# bad options: status 2, a message, the synopsis
bad() {
	want=$1
	shift
	run mlde-world "$@"
	is "$status" 2 "$* : status 2"
	like err "^mlde-world: $want" "$* : says $want"
	like err "^usage: mlde-world " "$* : then the synopsis"
}
bad "--images: 0 is out of range" --seed 1 --out x --images 0
bad "--out is required" --seed 1
bad "--seed is required" --out x
bad "--seed: 'x' is not an integer" --seed x --out x
bad "--val: -1 is out of range" --seed 1 --out x --val -1
bad "--mix: unknown type 'colour'" --seed 1 --out x --mix colour=1
bad "--mix: 'uniformly' is not TYPE=WEIGHT" --seed 1 --out x --mix uniformly
bad "--mix: 'text_understanding=0' gives no type a weight" --seed 1 --out x \
	--mix text_understanding=0
bad "unexpected argument 'y'" --seed 1 --out x y
bad "option '--out' needs a value" --seed 1 --out
is "$(ls -d x 2>/dev/null)" "" "a usage error writes nothing"

# an output directory that cannot be made: status 3, named
run mlde-world --seed 1 --out /dev/null/w --images 1
is "$status" 3 "--out under a file: status 3"
like err "^mlde-world: /dev/null/w: cannot make directory: " "names the directory"

done_testing
