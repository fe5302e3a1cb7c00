#!/bin/sh
# mlde-import from the command line: each format from its real-format
# sample (tests/fixtures/formats/), the records checked against the record
# contract and taken by mlde-eval and mlde-sample; every bad input, as an
# error naming the place and the field, or skipped and counted.
. "$(dirname "$0")/../lib.sh"
FMT=$FIXTURES/formats
MMB=$FMT/mmbench_samples_assembled.tsv
SEED=$FMT/seed_bench_v1_doc_examples.json
AOK=$FMT/aokvqa_val_example.json
CAP=$FMT/coco_captions_val2017_excerpt.json
INS=$FMT/coco_instances_val2017_excerpt.json

# the item contract (DESIGN.md "Records"): image, question strings, 2 to 8
# options, answer an index of them, type a string when present
ITEM='(.id|type=="string") and (.image|type=="string") and (.question|type=="string")
	and (.options|type=="array" and length>=2 and length<=8 and all(type=="string"))
	and (.answer|type=="number" and .>=0 and floor==.) and .answer < (.options|length)
	and ((has("type")|not) or (.type|type=="string"))'
# a pool record: image, captions strings, objects {name, bbox [x1,y1,x2,y2] in 0..1}
POOL='(.image|type=="string") and (.captions|all(type=="string"))
	and (.objects|all((.name|type=="string") and (.bbox|length==4 and all(.>=0 and .<=1))
	and .bbox[0]<=.bbox[2] and .bbox[1]<=.bbox[3]))'
contract() { jq -e "$1" "$2" > /dev/null && ! jq -e "($1)|not" "$2" | grep -q true; }

H='index	question	hint	A	B	C	D	answer	category	image	source	l2-category	split'
png 4 3 small.png
PNG64=$(base64 -w0 small.png)
# row INDEX QUESTION HINT A B C D ANSWER [IMAGE]: one TSV row
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\timage_scene\t%s\t\tcoarse_perception\tdev\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "${9:-$PNG64}"
}
# the output file must not exist, nor its .tmp
no_output() { holds "$1: no output file" not test -e "$2"; holds "$1: no $2.tmp" not test -e "$2.tmp"; }

# ---- the command line ----
run mlde-import --help
is "$status" 0 "--help: status 0"
like out '^usage: mlde-import mmbench\|seed\|aokvqa\|coco \[-qvZ\] ' "--help: the synopsis"
like out '^  mlde-import coco \[--images DIR\] --captions FILE --instances FILE$' "--help: each format's form"
like out 'l2-category' "--help: --type's values"
run mlde-import --version
like out '^mlde-import \(mlde\) ' "--version"
run mlde-import
is "$status" 2 "no format: status 2"
like err "which format\\? mmbench, seed, aokvqa or coco" "no format: said so"
like err "^usage: mlde-import mmbench\|seed" "and the synopsis"
run mlde-import csv x.csv
is "$status" 2 "an unknown format: status 2"
like err "unknown format 'csv'" "named"
run mlde-import mmbench --bogus x
is "$status" 2 "an unknown option: status 2"
like err "unknown option '--bogus'" "named"
run mlde-import mmbench "$MMB"
is "$status" 2 "mmbench without --images: status 2"
like err "mmbench: --images DIR is required" "said so"
run mlde-import mmbench --images img --type size "$MMB"
is "$status" 2 "mmbench --type other than category, l2-category: status 2"
run mlde-import seed --type x "$SEED"
is "$status" 2 "seed --type: status 2"
run mlde-import coco --captions "$CAP"
is "$status" 2 "coco without --instances: status 2"
run mlde-import aokvqa --captions "$CAP" "$AOK"
is "$status" 2 "--captions outside coco: status 2"
run mlde-import aokvqa "$AOK" extra
is "$status" 2 "a second file: status 2"
like err "unexpected argument 'extra'" "named"
run mlde-import seed no-such.json
is "$status" 3 "a missing file: status 3"
like err "^mlde-import: no-such.json: No such file or directory$" "named"

# ---- mmbench ----
run mlde-import mmbench --images img -o mmb.zst "$MMB"
is "$status" 0 "mmbench sample: status 0"
zstd -dc mmb.zst > mmb.jsonl
is "$(wc -l < mmb.jsonl | tr -d ' ')" 4 "one item a row"
holds "mmbench items keep the item contract" contract "$ITEM" mmb.jsonl
is "$(jq -r .id mmb.jsonl | tr '\n' ' ')" "812 672 2222 318 " "ids are MMBench's index"
is "$(jq -c '[.answer, (.options|length)]' mmb.jsonl | tr '\n' ' ')" "[0,4] [0,4] [2,3] [1,3] " \
	"empty C/D dropped, the answer letter an index of the options left"
is "$(jq -r 'select(.id=="318") | .question' mmb.jsonl)" \
	"The diagram below is a model of two solutions. Each green ball represents one particle of solute.
Which solution has a higher concentration of green particles?" \
	"the hint joined to the question with a newline, as LLaVA's model_vqa_mmbench does"
is "$(jq -r 'select(.id=="318") | .hint' mmb.jsonl)" \
	"The diagram below is a model of two solutions. Each green ball represents one particle of solute." \
	"and kept as hint"
is "$(jq -r 'select(.id=="812") | has("hint")' mmb.jsonl)" false "an empty hint: no hint field"
is "$(jq -r '[.type, .category, ."l2-category", .benchmark] | join(",")' mmb.jsonl | head -1)" \
	"image_scene,image_scene,coarse_perception,mmbench" "type from category; category, l2-category kept"
is "$(jq -r 'has("source") or has("split")' mmb.jsonl | sort -u)" false "empty source and split left out"
# each image once, named by the sha256 of its bytes, .jpg by its signature
n=0; named=0
for f in $(jq -r .image mmb.jsonl); do
	n=$((n + 1))
	[ "$(sha256sum "img/$f" | cut -c1-64).jpg" = "$f" ] && named=$((named + 1))
done
is "$named/$n" 4/4 "images written under --images, named SHA256.jpg, referenced relative to it"
is "$(ls img | wc -l | tr -d ' ')" 4 "four files"
like err "^mlde-import: .*mmbench_samples_assembled.tsv: 4 rows read, 4 items written, 0 bad skipped$" \
	"the summary"
like err "^mlde-import: images in img: 4 written, 0 there already$" "images counted"
run mlde-import mmbench --images img -o again.zst "$MMB"
same mmb.zst again.zst "a second run writes the same items"
like err "images in img: 0 written, 4 there already" "and no image again"
run mlde-import mmbench --images img --type l2-category -Z "$MMB"
is "$(jq -r .type out | tr '\n' ',')" \
	"coarse_perception,finegrained_perception (instance-level),logic_reasoning,finegrained_perception (cross-instance)," \
	"--type l2-category"
run mlde-import mmbench --images img "$MMB"
holds "zstd on stdout when it is not a terminal" zstd -t -q out
run mlde-import mmbench -q --images img -Z - < "$MMB"
is "$(wc -l < out | tr -d ' ')" 4 "- reads stdin"
is "$(wc -c < err | tr -d ' ')" 0 "-q: nothing on stderr"

run mlde-import mmbench --images no/such/dir -Z "$MMB"
is "$status" 3 "an images directory that cannot be made: status 3"
like err "^mlde-import: no/such/dir: cannot make the images directory: No such file or directory$" "named, and why"

# pandas' quoting: a quoted field with a tab, a newline and doubled quotes
{
	echo "$H"
	row 1 '"What is ""this"",	tabbed
and on two lines?"' '"a ""hint"""' x y '' '' B
	row 2 plain '' x y z '' C
} > quoted.tsv
run mlde-import mmbench --images img -Z quoted.tsv
is "$status" 0 "quoted fields: status 0"
is "$(jq -r 'select(.id=="1") | .question' out)" 'a "hint"
What is "this",	tabbed
and on two lines?' "a quoted field keeps its tab, newline and quotes"
is "$(jq -r 'select(.id=="2") | .options | length' out)" 3 "the row after it is read whole"
is "$(jq -r 'select(.id=="1") | .image' out)" "$(sha256sum small.png | cut -c1-64).png" "a PNG is named .png"

# an image field of an earlier row's index (MMBench's circular copies)
{ echo "$H"; row 7 q '' x y '' '' A; row 8 q2 '' y x '' '' B 7; } > refs.tsv
run mlde-import mmbench --images img -Z refs.tsv
is "$(jq -r .image out | sort -u | wc -l | tr -d ' ')" 1 "a short image field names an earlier row's image"
{ echo "$H"; row 8 q2 '' y x '' '' B 9; } > badref.tsv
run mlde-import mmbench --images img -Z badref.tsv
is "$status" 1 "a reference to no row: status 1"
like err "^mlde-import: badref.tsv:2: row 8: field 'image': '9' is no image, nor the index of an earlier row$" \
	"named"

# GIF and WebP by their signatures
# (60 bytes each: a field of 64 characters or fewer is a reference)
{ printf 'GIF89a'; head -c 54 /dev/zero; } > x.gif
{ printf 'RIFF\064\000\000\000WEBPVP8 '; head -c 44 /dev/zero; } > x.webp
{ echo "$H"; row 1 q '' x y '' '' A "$(base64 -w0 x.gif)"; row 2 q '' x y '' '' A "$(base64 -w0 x.webp)"; } > types.tsv
run mlde-import mmbench --images img -Z types.tsv
is "$(jq -r '.image | sub(".*[.]"; "")' out | tr '\n' ' ')" "gif webp " "GIF and WebP named by type"

# bad input: a missing column
cut -f1-7,9- "$MMB" > noanswer.tsv
run mlde-import mmbench --images img -o bad.zst noanswer.tsv
is "$status" 1 "no answer column: status 1"
like err "^mlde-import: noanswer.tsv:1: no column 'answer' in the header$" "the column named"
no_output "no answer column" bad.zst
cut -f1-8,10- "$MMB" > nocat.tsv
run mlde-import mmbench --images img -Z --type l2-category nocat.tsv
is "$status" 0 "no category column: fine with --type l2-category"
run mlde-import mmbench --images img -Z nocat.tsv
like err "no column 'category' in the header" "but not for --type category"

# an answer naming an absent option, an undecodable image, bad base64
{
	echo "$H"
	row 1 good '' x y '' '' B
	row 2 absent '' x y '' '' C
	row 3 text '' x y '' '' A "$(printf 'this is text, no image at all, but long enough to be base64' | base64 -w0)"
	row 4 bad64 '' x y '' '' A "$(printf '%070d' 0)!!"
	row 5 letter '' x y '' '' Z
	row 6 one '' x '' '' '' A
} > bad.tsv
run mlde-import mmbench --images img -o bad.zst bad.tsv
is "$status" 1 "an answer naming an absent option: status 1"
like err "^mlde-import: bad.tsv:3: row 2: field 'answer': 'C' names an absent option$" \
	"FILE:LINE, the row and the field"
no_output "absent option" bad.zst
run mlde-import mmbench --images img --skip-bad -o bad.zst bad.tsv
is "$status" 0 "--skip-bad: status 0"
is "$(zstd -dc bad.zst | jq -r .id)" 1 "--skip-bad: the good row only"
like err "^mlde-import: skipped: bad.tsv:3: row 2: field 'answer': 'C' names an absent option$" \
	"--skip-bad: each bad row named"
like err "^mlde-import: skipped: bad.tsv:4: row 3: field 'image': not a PNG, JPEG, WebP or GIF image \\([0-9]+ bytes\\)$" \
	"an image of no known type"
like err "^mlde-import: skipped: bad.tsv:5: row 4: field 'image': not base64$" "bad base64"
like err "^mlde-import: skipped: bad.tsv:6: row 5: field 'answer': 'Z' is not an option letter A to H$" \
	"an answer that is no letter"
like err "^mlde-import: skipped: bad.tsv:7: row 6: field 'B': only one option" "one option"
like err "bad.tsv: 6 rows read, 1 item written, 5 bad skipped$" "--skip-bad: counted"

# an unterminated quote
{ echo "$H"; row 1 good '' x y '' '' A; row 2 '"never closed' '' x y '' '' A; } > open.tsv
run mlde-import mmbench --images img --skip-bad -o open.zst open.tsv
is "$status" 1 "an unterminated quote: status 1, even with --skip-bad (the rest cannot be read)"
like err "^mlde-import: open.tsv:3: field 'question': unterminated quote \\(the input ends on line 4 with the field still open\\)$" \
	"the line the quote opens on and the field"
no_output "unterminated quote" open.zst

# the items as mlde-eval -m takes them: world items turned into an MMBench
# TSV (PNG images as base64) evaluate as the world items do
mlde-world -q --seed 3 --out w --images 10 --base 40 --val 18 --test 9
mlde-train -q --images w --epochs 1 --threads 1 -o m.st w/base.jsonl.zst
{
	echo "$H"
	zstd -dc w/val.jsonl.zst | jq -r '[.id, .question, "", .options[0:4][],
		("ABCD"[.answer:.answer+1]), .type, .image] | @tsv' |
	perl -MMIME::Base64 -F'\t' -lane '
		open my $f, "<:raw", "w/$F[9]" or die "$F[9]: $!";
		local $/; my $png = <$f>;
		print join "\t", @F[0..8], encode_base64($png, ""), "", "x", "dev"'
} > world.tsv
run mlde-import mmbench --images wimg -o world.zst world.tsv
is "$status" 0 "world items as a TSV: imported"
run mlde-eval -q -m m.st --images wimg -o imported.eval.zst world.zst
is "$status" 0 "mlde-eval -m takes the imported items"
mlde-eval -q -m m.st --images w -o world.eval.zst w/val.jsonl.zst
is "$(zstd -dc imported.eval.zst | jq -c '[.id, .pred, .correct]' | md5sum)" \
	"$(zstd -dc world.eval.zst | jq -c '[.id, .pred, .correct]' | md5sum)" \
	"and answers them as it answers the world's own items"
is "$(zstd -dc imported.eval.zst | wc -l | tr -d ' ')" 18 "all 18 of them"

# ---- seed ----
run mlde-import seed -Z "$SEED"
is "$status" 0 "seed sample: status 0"
holds "seed items keep the item contract" contract "$ITEM" out
is "$(jq -c '[.id, .type, .answer, .image, .question_type_id]' out)" \
	'["101669","instances_counting",0,"1454426_2591111986",5]' \
	"the image question: question_type_id 5 is instances_counting, answer A is 0"
is "$(jq -c .options out)" '["One","Two","Three","Four"]' "choice_a..choice_d"
like err "^mlde-import: 3 video questions skipped: mlde evaluates image questions only$" \
	"video questions counted and skipped with a note"
like err "seed_bench_v1_doc_examples.json: 4 questions read, 1 item written, 0 bad skipped$" "the summary"
run mlde-import seed -Z - < "$SEED"
like err "^mlde-import: <stdin>: 4 questions read, 1 item written, 0 bad skipped$" "seed: - reads stdin"
run mlde-import seed --images SEED-Bench-image -Z "$SEED"
is "$(jq -r .image out)" SEED-Bench-image/1454426_2591111986 "--images: the directory put before data_id"
jq '.question_type["Scene Understanding"] = 5 | .question_type["Instances Counting"] = 1' "$SEED" > swapped.json
run mlde-import seed -o s.zst swapped.json
is "$status" 1 "a question_type map unlike SEED-Bench's: status 1"
like err "swapped.json: field 'question_type': 'Scene Understanding' is question_type_id 5 here, which mlde knows as instances_counting" \
	"named"
no_output "question_type map" s.zst
jq '.questions[0].answer = "E" | .questions[1].data_type = "image" | .questions += [5]' "$SEED" > badseed.json
run mlde-import seed -o s.zst badseed.json
is "$status" 1 "a bad answer letter: status 1"
like err "^mlde-import: badseed.json: questions\\[0\\] \\(question_id 101669\\): field 'answer': 'E' is not A, B, C or D$" \
	"the question and the field named"
run mlde-import seed --skip-bad -Z badseed.json
is "$status" 0 "--skip-bad: status 0"
like err "skipped: badseed.json: questions\\[1\\] \\(question_id v1738\\): field 'question_type_id': 10 is no image dimension \\(1 to 9\\)" \
	"a video dimension on an image question"
like err "skipped: badseed.json: questions\\[4\\]: expected an object, got number" "a question that is no object"
like err "badseed.json: 5 questions read, 0 items written, 3 bad skipped$" "counted"
like err "2 video questions skipped" "the videos still counted apart"
echo '{"questions": [' > trunc.json
run mlde-import seed trunc.json
is "$status" 1 "truncated JSON: status 1"
like err "^mlde-import: trunc.json: " "named"

# ---- aokvqa ----
run mlde-import aokvqa -Z "$AOK"
is "$status" 0 "aokvqa sample: status 0"
holds "aokvqa items keep the item contract" contract "$ITEM" out
is "$(jq -c '[.id, .answer, .image, has("type")]' out)" '["22jbM6gDxdaMaunuzgrsBB",3,"val2017/000000461751.jpg",false]' \
	"correct_choice_idx as the answer, the COCO 2017 file of image_id, no type"
is "$(jq -c '[(.rationales|length), .rationale]' out)" "[3,\"He's smoking while riding.\"]" \
	"rationales kept, the first as rationale"
is "$(jq -c '[.direct_answers[0], .difficult_direct_answer, .split]' out)" '["cigarette",false,"val"]' \
	"direct answers kept"
run mlde-import aokvqa --type visual_reasoning --images coco -Z "$AOK"
is "$(jq -r '[.type, .image] | join(" ")' out)" "visual_reasoning coco/val2017/000000461751.jpg" \
	"--type NAME, --images DIR"
jq '.[0].correct_choice_idx = 4 | . += [.[0] | .question_id = "b" | del(.choices)]' "$AOK" > badaok.json
run mlde-import aokvqa -o a.zst badaok.json
is "$status" 1 "correct_choice_idx past the choices: status 1"
like err "^mlde-import: badaok.json: \\[0\\] \\(question_id 22jbM6gDxdaMaunuzgrsBB\\): field 'correct_choice_idx': 4 is not the index of one of the 4 choices$" \
	"named"
no_output "aokvqa bad answer" a.zst
run mlde-import aokvqa --skip-bad -Z badaok.json
like err "skipped: badaok.json: \\[1\\] \\(question_id b\\): field 'choices': missing" "no choices"
like err "2 questions read, 0 items written, 2 bad skipped$" "counted"

# ---- coco ----
run mlde-import coco --images val2017 --captions "$CAP" --instances "$INS" -o pool.zst
is "$status" 0 "coco sample: status 0"
zstd -dc pool.zst > pool.jsonl
holds "pool records keep the pool contract" contract "$POOL" pool.jsonl
is "$(jq -r '.image' pool.jsonl | tr '\n' ' ')" \
	"val2017/000000037777.jpg val2017/000000331352.jpg val2017/000000289393.jpg " \
	"the images with annotations, in the images list's order, under --images"
is "$(jq -r 'select(.image|test("331352")) | .captions | length' pool.jsonl)" \
	"$(jq '[.annotations[] | select(.image_id == 331352)] | length' "$CAP")" "captions grouped per image"
# the one instance annotation of a listed image, worked by hand
is "$(jq -c '.annotations[] | select(.image_id == 37777) | [.bbox, .category_id]' "$INS")" \
	'[[102.49,118.47,7.9,17.31],64]' "(the annotation: 102.49/352 = 0.2912, (118.47+17.31)/230 = 0.5903)"
is "$(jq -c 'select(.image|test("37777")) | .objects' pool.jsonl)" \
	'[{"name":"potted plant","bbox":[0.2912,0.5151,0.3136,0.5903]}]' \
	"pixel [x,y,w,h] on 352x230 as [x1,y1,x2,y2] fractions; category 64's name"
like err "^mlde-import: 9 captions and 1 objects on 3 images; 97 images listed with no annotation left out$" \
	"what was used and left out"
like err "^mlde-import: 91 captions and 99 objects of images in neither images list left out$" \
	"annotations of unlisted images counted"
unlike err "only in" "the two lists agree: nothing said"
jq 'del(.images[0, 1])' "$INS" > ins-short.json
jq '.images += [{"id": 1, "file_name": "x.jpg", "width": 10, "height": 10}]
	| .annotations += [{"image_id": 1, "id": 5, "caption": " padded \n"}]' "$CAP" > cap-more.json
run mlde-import coco -Z --captions cap-more.json --instances ins-short.json
is "$status" 0 "images in one file only: status 0"
like err "^mlde-import: 3 images only in cap-more.json, 0 only in ins-short.json \\(written with what that file gives\\)$" \
	"images listed in one file only: counted and reported"
is "$(jq -c 'select(.image == "x.jpg") | .captions' out)" '["padded"]' "captions trimmed"
jq '.annotations[3].bbox = [1, 2] | .annotations[5].category_id = 999' "$INS" > ins-bad.json
run mlde-import coco -o p.zst --captions "$CAP" --instances ins-bad.json
is "$status" 1 "a bad bbox: status 1"
like err "^mlde-import: ins-bad.json: annotations\\[3\\] \\(id [0-9]+\\): field 'bbox': not four numbers \\[x, y, width, height\\]$" \
	"the annotation and the field named"
no_output "coco bad bbox" p.zst
run mlde-import coco --skip-bad -Z --captions "$CAP" --instances ins-bad.json
is "$status" 0 "--skip-bad: status 0"
like err "skipped: ins-bad.json: annotations\\[5\\] \\(id [0-9]+\\): field 'category_id': 999 is in no category" \
	"an unknown category"
like err "3 pool records written, 2 bad entries skipped$" "counted"
run mlde-import coco --captions "$INS" --instances "$CAP"
is "$status" 1 "the two files swapped: status 1"
like err "coco_captions_val2017_excerpt.json: field 'categories': missing" "named"

# the pool as mlde-sample takes it
mlde-eval -q -m m.st --images w -o val.eval.zst w/val.jsonl.zst
mlde-weak -q -o weak.zst val.eval.zst
run mlde-sample -q --weak weak.zst --pool pool.zst --budget 4 --retrieval random -Z val.eval.zst
is "$status" 0 "mlde-sample takes the pool"
is "$(jq -r '.query.image' out | grep -c '^val2017/')" "$(wc -l < out | tr -d ' ')" \
	"its plans' query images are COCO's"

# ---- the question types' explanations (prompts/) ----
TYPES_DIR=$TESTS_DIR/../prompts
MMB_TYPES=$TYPES_DIR/types.json
NINE='["scene_understanding","instance_identity","instance_attributes","instance_location",
	"instances_counting","spatial_relation","instance_interaction","visual_reasoning","text_understanding"]'
# MMBench's 20 leaf abilities and 6 L2 categories (VLMEvalKit's names)
LEAVES='["image_style","image_scene","image_emotion","image_quality","image_topic",
	"object_localization","attribute_recognition","celebrity_recognition","ocr",
	"spatial_relationship","attribute_comparison","action_recognition",
	"physical_property_reasoning","function_reasoning","identity_reasoning",
	"social_relation","physical_relation","nature_relation",
	"structuralized_imagetext_understanding","future_prediction"]'
L2='["coarse_perception","finegrained_perception (instance-level)",
	"finegrained_perception (cross-instance)","attribute_reasoning","relation_reasoning","logic_reasoning"]'
is "$(jq -r --argjson n "$NINE" '. as $t | [$n[] | select(($t[.].explain|type) != "string")] | length' \
	"$TYPES_DIR/types.json")" 0 \
	"types.json explains SEED-Bench's nine dimensions (seed's types)"
is "$(jq -c --argjson n "$NINE" --argjson l "$LEAVES" --argjson l2 "$L2" \
	'. as $t | [($n + $l + $l2)[] | select(($t[.].title|type) != "string" or ($t[.].explain|type) != "string")]' \
	"$MMB_TYPES")" "[]" "types.json: a title and an explanation for the nine, the 20 leaves and the 6 L2 categories"
is "$(jq -r '.category, ."l2-category"' mmb.jsonl | sort -u | jq -R . | jq -s -r --slurpfile t "$MMB_TYPES" \
	'[.[] | select($t[0][.] == null)] | length')" 0 "every type of the imported sample is explained"
echo '{"id":"p","type":"image_style","query":{"image":"x.jpg","captions":["c"],"objects":[]},"examples":[]}' > plan.jsonl
run mlde-gen --emit prompt -Z plan.jsonl
like out 'The question type: image style[.] The style of the picture as a whole' \
	"mlde-gen explains an MMBench type in the prompt by default"

done_testing
