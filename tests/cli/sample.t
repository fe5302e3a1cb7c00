#!/bin/sh
# mlde-sample from the command line: quotas, strategies, temperature,
# examples, retrieval, leakage, determinism and every bad input.
. "$(dirname "$0")/../lib.sh"

# eval records: type a 2/20 right, b 12/20, c 18/20, embeddings in 3-D
awk 'BEGIN { srand(7); split("a b c", T, " "); split("2 12 18", R, " ")
	for (t = 1; t <= 3; t++) for (i = 0; i < 20; i++) {
		printf "{\"id\":\"%s%02d\",\"type\":\"%s\",\"image\":\"val/%s%02d.png\",\"question\":\"q\",\"options\":[\"x\",\"y\"],\"answer\":0,\"pred\":1,\"correct\":%s,\"scores\":[0.1,0.9],\"embedding\":[%.3f,%.3f,%.3f]}\n", T[t], i, T[t], T[t], i, i < R[t] ? "true" : "false", rand() - 0.5, rand() - 0.5, rand() - 0.5 }
	for (i = 0; i < 200; i++)
		printf "{\"image\":\"pool/%03d.png\",\"captions\":[\"c\"],\"objects\":[],\"embedding\":[%.3f,%.3f,%.3f]}\n", i, rand() - 0.5, rand() - 0.5, rand() - 0.5 > "pool.jsonl"
}' > eval.jsonl
mlde-weak -q eval.jsonl > weak.zst

# quota TYPE: plan records of TYPE in the last run's output
plans() { zstd -dcf out > plans.jsonl 2>/dev/null || : > plans.jsonl; }
quotas() { jq -r .type plans.jsonl | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}'; }

# weights 0.9, 0.4, 0.1: budget 10 gives 6.43, 2.86, 0.71; floors 6+2+0,
# the two left go to the largest remainders b (0.86) and c (0.71)
run mlde-sample --weak weak.zst --pool pool.jsonl --budget 10 eval.jsonl
plans
is "$status" 0 "abs: status 0"
is "$(quotas)" "a=6 b=3 c=1 " "abs: quotas by largest remainder of 10 x weight / sum"
like err "^  a +0.9000 +18 +6$" "the quota table on stderr: type, weight, bad cases, quota"
run mlde-sample --strategy uniform --weak weak.zst --pool pool.jsonl --budget 10 eval.jsonl
plans
is "$(quotas)" "a=4 b=3 c=3 " "uniform: 3.33 each, the extra one to the first type"
run mlde-sample --strategy proportional --weak weak.zst --pool pool.jsonl --budget 10 eval.jsonl
plans
is "$(quotas)" "a=6 b=3 c=1 " "proportional: bad cases 18, 8, 2 of 28"
run mlde-sample --strategy bogus --weak weak.zst --pool pool.jsonl --budget 10 eval.jsonl
is "$status" 2 "--strategy bogus: usage status"

# temperature: T < 1 sharpens towards the weakest, T > 1 flattens
run mlde-sample --temperature 0.5 --weak weak.zst --pool pool.jsonl --budget 100 eval.jsonl
plans
is "$(quotas)" "a=83 b=16 c=1 " "T = 0.5: weights squared (0.81, 0.16, 0.01)"
run mlde-sample --temperature 1000 --weak weak.zst --pool pool.jsonl --budget 99 eval.jsonl
plans
is "$(quotas)" "a=33 b=33 c=33 " "T = 1000: nearly uniform"
run mlde-sample --temperature 0 --weak weak.zst --pool pool.jsonl --budget 10 eval.jsonl
is "$status" 2 "T = 0: usage status"

# quotas add up to exactly the budget for many budgets and weight sets
bad=0
for seed in 1 2 3 4 5 6; do
	awk -v s="$seed" 'BEGIN { srand(s); n = 1 + int(rand() * 9)
		for (i = 0; i < n; i++) printf "{\"type\":\"t%d\",\"weight\":%s}\n", i, (rand() < 0.2 ? 0 : rand()) }' > w.jsonl
	for budget in 1 2 3 7 10 33 100 257; do
		got=$(mlde-sample -q -Z --retrieval random --weak w.jsonl --pool pool.jsonl --budget "$budget" eval.jsonl | wc -l)
		[ "$got" -eq "$budget" ] || { bad=$((bad + 1)); diag "seed $seed budget $budget: $got plans"; }
	done
done
is "$bad" 0 "48 weight sets x budgets: the quotas always add up to the budget"
printf '%s\n' '{"type":"x","weight":0}' '{"type":"y","weight":0}' > zero.jsonl
run mlde-sample -Z --retrieval random --weak zero.jsonl --pool pool.jsonl --budget 5 eval.jsonl
is "$(jq -r .type out | sort | uniq -c | awk '{printf "%s ", $1}')" "3 2 " "all weights 0: split evenly"

# examples: of the request's type, distinct, cycling through every bad case
run mlde-sample -Z --weak weak.zst --pool pool.jsonl --budget 30 eval.jsonl
cp out plans.jsonl
is "$(jq -r '.type as $t | .examples[] | select(.type != $t) | .id' plans.jsonl)" "" "examples are of the request's type"
is "$(jq -r 'select(.examples[0].id == .examples[1].id) | .id' plans.jsonl)" "" "examples within a request are distinct"
is "$(jq -r '.examples[] | select(.correct) | .id' plans.jsonl)" "" "examples are bad cases"
is "$(jq -r 'select(.type == "a") | .examples[].id' plans.jsonl | head -18 | sort -u | wc -l | tr -d ' ')" "18" \
	"the first 9 requests of a use all 18 of its bad cases before any repeats"
is "$(jq -r '.examples[] | has("embedding") or has("scores")' plans.jsonl | sort -u)" "false" "examples carry no embedding or scores"
is "$(jq -r '.query | has("embedding")' plans.jsonl | sort -u)" "false" "queries carry no embedding"
is "$(jq -r .id plans.jsonl | sed -n 1p)" "a-00000" "plan ids: type and number"
run mlde-sample -Z --examples 3 --weak weak.zst --pool pool.jsonl --budget 10 eval.jsonl
is "$(jq -r '.examples | length' out | sort -u | tr '\n' ' ')" "2 3 " "--examples 3: three, or all there are (c has 2)"

# a type with a quota but no bad case: correct items instead, and says so
awk '$0 ~ /"type":"c"/ { sub(/"correct":false/, "\"correct\":true") } { print }' eval.jsonl > allc.jsonl
printf '%s\n' '{"type":"c","weight":1}' '{"type":"d","weight":1}' > cd.jsonl
run mlde-sample -Z --weak cd.jsonl --pool pool.jsonl --budget 4 allc.jsonl
is "$status" 0 "types without bad cases: status 0"
is "$(jq -r 'select(.type == "c") | .examples | map(.correct) | all' out | sort -u)" "true" "c: correctly answered items as examples"
is "$(jq -r 'select(.type == "d") | .examples | length' out | sort -u)" "0" "d: no items at all, no examples"
like err "c: no bad case: examples are correctly answered items" "c: said on stderr"
like err "d: no bad case and no other item: no examples" "d: said on stderr"

# retrieval: the most similar image, never a benchmark image, no reuse
printf '%s\n' '{"id":"q","type":"a","image":"val/q.png","correct":false,"embedding":[1,0,0]}' > one.jsonl
printf '%s\n' '{"type":"a","weight":1}' > wa.jsonl
awk 'BEGIN { for (i = 0; i < 5; i++) printf "{\"image\":\"p%d\",\"embedding\":[%d,1,0]}\n", i, i }' > small.jsonl
printf '%s\n' '{"image":"val/q.png","embedding":[1,0,0]}' >> small.jsonl
run mlde-sample -Z --topk 1 --weak wa.jsonl --pool small.jsonl --budget 5 one.jsonl
is "$(jq -r .query.image out | tr '\n' ' ')" "p4 p3 p2 p1 p0 " "--topk 1: the most similar unused image each time, most similar first"
is "$(jq -r .similarity out | head -1)" "0.970142" "similarity is the cosine (4/sqrt(17) = 0.9701425, in float)"
like err "1 pool images are also input \(benchmark\) images: never chosen" "leaked pool images counted"
run mlde-sample -Z --topk 256 --weak wa.jsonl --pool small.jsonl --budget 5 one.jsonl
is "$(jq -r .query.image out | sort | tr '\n' ' ')" "p0 p1 p2 p3 p4 " "--topk 256 (the limit): allowed, each image once"
run mlde-sample -Z --topk 257 --weak wa.jsonl --pool small.jsonl --budget 5 one.jsonl
is "$status" 2 "--topk 257: over the documented limit, usage status"
like err "--topk: 257 is out of range \(1 to 256\)" "--topk 257: the message names the value and the limit"
run mlde-sample -Z --retrieval random --weak wa.jsonl --pool small.jsonl --budget 12 one.jsonl
jq -r .query.image out > imgs
is "$(grep -c val/q.png imgs || true)" "0" "random: a benchmark image is never chosen"
is "$(head -5 imgs | sort -u | wc -l | tr -d ' ')$(sed -n 6,10p imgs | sort -u | wc -l | tr -d ' ')" "55" \
	"random: no image reused until the type has used the pool up"
is "$(jq -r 'has("similarity")' out | sort -u)" "false" "random: no similarity field"

# determinism
mlde-sample -q --weak weak.zst --pool pool.jsonl --budget 50 eval.jsonl > r1
mlde-sample -q --weak weak.zst --pool pool.jsonl --budget 50 eval.jsonl > r2
mlde-sample -q --seed 2 --weak weak.zst --pool pool.jsonl --budget 50 eval.jsonl > r3
same r1 r2 "same inputs and seed: identical output"
if cmp -s r1 r3; then ok 1 "another seed: another plan"; else ok 0 "another seed: another plan"; fi
mlde-sample -q --threads 1 --weak weak.zst --pool pool.jsonl --budget 50 eval.jsonl > r4
same r1 r4 "one thread or all: identical output"
# at the loop's scale (600 bad cases, 3,000 pool images, 128 dimensions)
# the similarities' last digits too: OpenBLAS's, which did the products
# before, changed them with its thread count
awk 'BEGIN { srand(11)
	for (i = 0; i < 600; i++) {
		printf "{\"id\":\"v%03d\",\"type\":\"%s\",\"image\":\"val/%03d.png\",\"question\":\"q\",\"options\":[\"x\",\"y\"],\"answer\":0,\"pred\":1,\"correct\":false,\"embedding\":[", i, i % 2 ? "a" : "b", i
		for (d = 0; d < 128; d++) printf "%s%.4f", d ? "," : "", rand() - 0.5; print "]}" }
	for (i = 0; i < 3000; i++) {
		printf "{\"image\":\"pool/%04d.png\",\"embedding\":[", i > "bigpool.jsonl"
		for (d = 0; d < 128; d++) printf "%s%.4f", d ? "," : "", rand() - 0.5 > "bigpool.jsonl"
		print "]}" > "bigpool.jsonl" }
}' > bigeval.jsonl
mlde-weak -q bigeval.jsonl > bigweak.zst
for t in 1 2 3 7; do
	mlde-sample -q --threads $t --weak bigweak.zst --pool bigpool.jsonl --budget 600 \
		--examples 1 bigeval.jsonl > big$t
done
same big1 big2 "600 bad cases x 3,000 pool images x 128: 2 threads, the same bytes as 1"
same big1 big3 "  3 threads"
same big1 big7 "  7 threads"
run mlde-sample -o plan.zst --weak weak.zst --pool pool.jsonl --budget 5 eval.jsonl
is "$status:$(zstdcat plan.zst | wc -l | tr -d ' '):$(ls plan.zst.tmp 2>/dev/null | wc -l | tr -d ' ')" "0:5:0" "-o FILE"

# bad input
: > empty.jsonl
run mlde-sample --weak weak.zst --pool empty.jsonl --budget 5 eval.jsonl
is "$status" 1 "an empty pool: bad-input status"
like err "^mlde-sample: empty.jsonl: the pool is empty$" "  and says so"
printf '%s\n' '{"image":"val/q.png","embedding":[1,0,0]}' > leakonly.jsonl
run mlde-sample --weak wa.jsonl --pool leakonly.jsonl --budget 5 one.jsonl
like err "the pool is empty once the benchmark images are left out" "a pool of benchmark images only"
run mlde-sample --weak weak.zst --pool pool.jsonl --budget 0 eval.jsonl
is "$status" 2 "--budget 0: usage status"
run mlde-sample --weak weak.zst --pool pool.jsonl --budget -3 eval.jsonl
is "$status" 2 "--budget -3: usage status"
run mlde-sample --weak weak.zst --pool pool.jsonl eval.jsonl
like err "--budget N is required" "no --budget"
run mlde-sample --pool pool.jsonl --budget 3 eval.jsonl
like err "--weak WEAK is required" "no --weak"
run mlde-sample --weak empty.jsonl --pool pool.jsonl --budget 3 eval.jsonl
is "$status:$(cat err)" "1:mlde-sample: empty.jsonl: no weakness records: nothing to allocate the budget to" "a weakness file with no types"
printf '%s\n' '{"type":"a"}' > noweight.jsonl
run mlde-sample --weak noweight.jsonl --pool pool.jsonl --budget 3 eval.jsonl
is "$status:$(cat err)" "1:mlde-sample: noweight.jsonl:1: field 'weight': missing" "a weakness record without weight"
printf '%s\n' '{"id":"q","type":"a","image":"v","correct":false}' > noemb.jsonl
run mlde-sample --weak wa.jsonl --pool small.jsonl --budget 3 noemb.jsonl
is "$status" 1 "a bad case without embedding under similar: bad-input status"
like err "^mlde-sample: noemb.jsonl:1: field 'embedding': missing on a bad case" "  named FILE:LINE and field"
run mlde-sample --retrieval random --weak wa.jsonl --pool small.jsonl --budget 3 noemb.jsonl
is "$status" 0 "  but fine under --retrieval random"
printf '%s\n' '{"image":"p0","embedding":[1,0,0]}' '{"image":"p1"}' > poolnoemb.jsonl
run mlde-sample --weak wa.jsonl --pool poolnoemb.jsonl --budget 3 one.jsonl
like err "^mlde-sample: poolnoemb.jsonl:2: field 'embedding': missing on a pool record" "a pool record without embedding"
printf '%s\n' '{"image":"p0","embedding":[1,0,0]}' '{"image":"p1","embedding":[1,0]}' > poolmixed.jsonl
run mlde-sample --weak wa.jsonl --pool poolmixed.jsonl --budget 3 one.jsonl
is "$status:$(cat err)" "1:mlde-sample: poolmixed.jsonl:2: field 'embedding': 2 numbers, but one.jsonl:1 has 3" "embeddings of different lengths"
printf '%s\n' '{"image":"p0","embedding":[1,"x",0]}' > poolstr.jsonl
run mlde-sample --weak wa.jsonl --pool poolstr.jsonl --budget 3 one.jsonl
like err "poolstr.jsonl:1: field 'embedding': element 1 is not a number" "an embedding with a string in it"
printf '%s\n' '{"id":"q","type":"a","correct":false,"embedding":[1,0,0]}' > noimage.jsonl
run mlde-sample --weak wa.jsonl --pool small.jsonl --budget 3 noimage.jsonl
like err "noimage.jsonl:1: field 'image': missing" "an eval record without image"
run mlde-sample -o never.zst --weak wa.jsonl --pool poolmixed.jsonl --budget 3 one.jsonl
is "$(ls never.zst never.zst.tmp 2>/dev/null | wc -l | tr -d ' ')" "0" "a failed run leaves no output file"

# a bad record on the last line of the pool, the last input read before the
# plans are written: status 1, its FILE:LINE, neither the output nor its .tmp
{ cat pool.jsonl; echo '{"image":"pool/late.png","captions":"c"}'; } > poollate.jsonl
run mlde-sample -o late.zst --weak weak.zst --pool poollate.jsonl --budget 5 eval.jsonl
is "$status:$(cat err)" "1:mlde-sample: poollate.jsonl:201: field 'captions': expected array, got string" \
	"a bad last pool record: status 1 and its FILE:LINE, nothing else said"
holds "a bad last pool record: no late.zst, no late.zst.tmp" test ! -e late.zst -a ! -e late.zst.tmp

# a write error once the plans are being written (a file size limit whose
# signal is ignored, so write fails with EFBIG): status 3, and the half
# written .tmp given up
run sh -c 'trap "" XFSZ; ulimit -f 1; exec mlde-sample -q -o big.zst --weak weak.zst \
	--pool pool.jsonl --budget 2000 eval.jsonl'
is "$status" 3 "a write error while writing: I/O status"
like err "^mlde-sample: big.zst.tmp: write error: File too large" "  naming the file"
holds "  no big.zst, no big.zst.tmp" test ! -e big.zst -a ! -e big.zst.tmp

done_testing
