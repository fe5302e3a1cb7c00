#!/bin/sh
# tests/bench/estimate-error.sh [FIXTURES] - the error of --dry-run's input
# token estimator (tools/lib/cost/estimate.h) on the original pipeline's two
# GPT-4 prompts and five GPT-4 replies (FIXTURES, default
# ../shared/fixtures/original-pipeline), against the tokenizers' own counts:
# cl100k_base (GPT-4) and o200k_base (GPT-4o), from js-tiktoken, which npm
# installs into a scratch directory.  The estimate is what mlde-gen
# --dry-run counts for each text as a prompt, less the chat's 7 tokens.
# Not part of make bench (it needs npm); run it by hand from the tree.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
fix=$(cd "${1:-$root/../shared/fixtures/original-pipeline}" && pwd)
bin=${MLDE_BIN:-$root/bin}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlde-estimate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm install --silent --no-audit --no-fund js-tiktoken@1.0.21 > /dev/null
{
	jq -c 'to_entries[] | {name: "prompt\(.key)", text: .value.prompt}' "$fix/gptvqa_prompt.json"
	jq -sc 'to_entries[] | {name: "reply\(.key)", text: .value.raw_instructions}' "$fix/gptvqa_result.jsonl"
	jq -c 'to_entries[] | {name: "train\(.key)", text: .value.raw_instructions}' "$fix/gptvqa_train_data.json"
} > texts.jsonl
cat > count.js <<'JS'
const { Tiktoken } = require("js-tiktoken/lite");
const cl = new Tiktoken(require("js-tiktoken/ranks/cl100k_base"));
const o2 = new Tiktoken(require("js-tiktoken/ranks/o200k_base"));
for (const line of require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean)) {
	const t = JSON.parse(line);
	console.log([t.name, Buffer.byteLength(t.text), cl.encode(t.text).length, o2.encode(t.text).length].join("\t"));
}
JS
node count.js < texts.jsonl > counts.tsv
printf '{{ .text }}' > t.txt
while read -r line; do
	printf '%s\n' "$line" | jq -c '{id: .name, type: "x", query: {image: "x.png"}, text: .text}' > plan.jsonl
	"$bin/mlde-gen" -q --dry-run --prompt t.txt --cache cache --prices /dev/null plan.jsonl |
		awk -F '\t' 'NR == 2 { print $6 - 7 }'
done < texts.jsonl > est.txt
paste counts.tsv est.txt | awk -F '\t' '
	function pct(a, b) { return 100 * (a - b) / b }
	function abs(x) { return x < 0 ? -x : x }
	BEGIN { printf "%-8s %6s %7s %7s %8s %7s %7s %7s\n", "text", "bytes", "cl100k", "o200k", "bytes/4", "err", "mlde", "err" }
	{
		b4 = $2 / 4
		printf "%-8s %6d %7d %7d %8.0f %+6.1f%% %7d %+6.1f%%\n", $1, $2, $3, $4, b4, pct(b4, $3), $5, pct($5, $3)
		if (abs(pct($5, $3)) > me) me = abs(pct($5, $3)); if (abs(pct(b4, $3)) > mb) mb = abs(pct(b4, $3))
		sb += b4; sc += $3; so += $4; se += $5
	}
	END {
		printf "%-8s %6s %7d %7d %8.0f %+6.1f%% %7d %+6.1f%%\n", "total", "", sc, so, sb, pct(sb, sc), se, pct(se, sc)
		printf "mlde: within %.1f%% of each text (cl100k), %+.1f%% on the total (o200k: %+.1f%%); bytes/4: within %.1f%%, %+.1f%%\n",
			me, pct(se, sc), pct(se, so), mb, pct(sb, sc)
	}'
