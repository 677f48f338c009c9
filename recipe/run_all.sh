#!/usr/bin/env bash
# Rebuild the default model from scratch: corpus -> tokenizer -> tokens -> (parity check) -> training
# -> ONNX export -> int8 quantization -> checks. Overwrites models/wisp-code-small.
# usage: MINUTES=120 recipe/run_all.sh            (CPU: ~2 h of training)
#        RESUME=1 MINUTES=120 recipe/run_all.sh   (keep the committed weights and continue)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
BLAS=/usr/lib/x86_64-linux-gnu/openblas-pthread   # Debian torch links the reference BLAS; OpenBLAS is ~20x faster
if [ -d "$BLAS" ]; then export LD_LIBRARY_PATH="$BLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
R=recipe

$PY $R/build_corpus.py
if [ -z "${RESUME:-}" ]; then
  $PY $R/train_bpe.py --vocab 8192 --n_positions 512
else
  # a resumed model must keep its tokenizer: reuse the shipped one
  mkdir -p $R/data/tokenizer && cp models/wisp-code-small/tokenizer*.json $R/data/tokenizer/
fi
$PY $R/encode_corpus.py
$PY $R/check_tokenizer_parity.py --tokenizer $R/data/tokenizer
FRESH=$([ -z "${RESUME:-}" ] && echo --fresh || true)
nice -n 19 $PY $R/train.py $FRESH --minutes "${MINUTES:-120}" --n_layer 4 --n_embd 192 --n_head 4 \
  --n_positions 512 --run $R/runs/$(date -u +%Y%m%dT%H%M)
$R/finish_session.sh
$PY $R/check_tokenizer_parity.py
