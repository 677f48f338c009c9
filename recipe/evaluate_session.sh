#!/usr/bin/env bash
# End of a training session, after finish_session.sh: the evaluations the README's Quality section and
# the model card report, on the exported model, into test/eval/runs/NAME/ (greedy and deterministic,
# so they may run beside other work). Prints each run's headline figures.
#   humaneval-300-cache0.json   HumanEval single-line, first 300 holes, context cache off (the target's figure)
#   humaneval-all-cache0.json   all 1,033 holes, cache off
#   heldout-ts-js-cache0.5.json held-out TS/JS holes, cache on (the extension's default weight)
#   heldout-py-cache0.5.json    held-out Python holes (corpus validation files), cache on
#   generate-eval.txt           the Generate evaluation (30 prompts)
#   humaneval-300-cache0-plain.json  the first file's holes without the repeat penalty and the second
#                               choice for a repeated line (session 7's pipeline changes), comparable
#                               with the sessions before them
# usage: recipe/evaluate_session.sh session7 [MODEL_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${1:?usage: recipe/evaluate_session.sh NAME [MODEL_DIR]}
MODEL=${2:-models/wisp-code-small}
OUT=test/eval/runs/$NAME
HUMANEVAL=../shared/eval/HumanEval-SingleLineInfilling.jsonl.gz
mkdir -p "$OUT"
node esbuild.js > /dev/null

headline() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const w = r.wisp, at = r.confidence.mean.thresholds.find((t) => t.at === 0.4);
    const pct = (x) => (100 * x).toFixed(1) + "%";
    console.log(`${process.argv[1]}: ${r.tasks} holes, EM ${pct(w.exact_match)}, ES ${w.edit_similarity.toFixed(3)}, ` +
      `pass@1 ${pct(w.pass_at_1)}; at minConfidence 0.4: ${pct(at.coverage)} shown, EM ${pct(at.exactMatch)}, ` +
      `ES ${at.editSimilarity.toFixed(3)}`);' "$1"
}

node dist/eval.js --model "$MODEL" --data $HUMANEVAL --limit 300 --context-cache 0 --python /usr/bin/python3 \
  --json "$OUT/humaneval-300-cache0.json" > "$OUT/humaneval-300-cache0.txt"
headline "$OUT/humaneval-300-cache0.json"
node dist/eval.js --model "$MODEL" --data test/eval/data/heldout-ts-js.jsonl.gz --context-cache 0.5 \
  --json "$OUT/heldout-ts-js-cache0.5.json" > "$OUT/heldout-ts-js-cache0.5.txt"
headline "$OUT/heldout-ts-js-cache0.5.json"
node dist/eval.js --model "$MODEL" --data test/eval/data/heldout-py.jsonl.gz --context-cache 0.5 \
  --json "$OUT/heldout-py-cache0.5.json" > "$OUT/heldout-py-cache0.5.txt"
headline "$OUT/heldout-py-cache0.5.json"
node dist/eval.js --model "$MODEL" --data $HUMANEVAL --limit 300 --context-cache 0 --python /usr/bin/python3 \
  --no-retry --repeat-penalty 0 --json "$OUT/humaneval-300-cache0-plain.json" > "$OUT/humaneval-300-cache0-plain.txt"
headline "$OUT/humaneval-300-cache0-plain.json"
node dist/generate-eval.js --model "$MODEL" > "$OUT/generate-eval.txt"
tail -n 4 "$OUT/generate-eval.txt"
node dist/eval.js --model "$MODEL" --data $HUMANEVAL --context-cache 0 --python /usr/bin/python3 \
  --json "$OUT/humaneval-all-cache0.json" > "$OUT/humaneval-all-cache0.txt"
headline "$OUT/humaneval-all-cache0.json"
