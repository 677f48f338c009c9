#!/usr/bin/env bash
# End of a training session: export the latest checkpoint, quantize it, check both ONNX files in
# onnxruntime-node, refresh the model card's progress/loss table, and (with --commit) commit the model
# folder. Safe to run while train.py is still running: checkpoints are replaced atomically.
# usage: recipe/finish_session.sh [--commit]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
BLAS=/usr/lib/x86_64-linux-gnu/openblas-pthread
if [ -d "$BLAS" ]; then export LD_LIBRARY_PATH="$BLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
M=models/wisp-code-small

$PY recipe/export_onnx.py --weights $M/train_state/model.fp16.pt --out $M
$PY recipe/quantize_onnx.py $M/onnx/model.onnx $M/onnx/model_quantized.onnx
node recipe/check_model.mjs $M onnx/model.onnx
node recipe/check_model.mjs $M onnx/model_quantized.onnx
$PY recipe/update_model_card.py
du -sh $M
if [ "${1:-}" = "--commit" ]; then
  TOKENS=$($PY -c "import json; print(round(json.load(open('$M/train_state/train_state.json'))['tokens']/1e6, 1))")
  git add $M
  git commit -m "wisp-code-small: export after ${TOKENS}M training tokens" -- $M
fi
