#!/usr/bin/env bash
# Start of a training session, in one command, on a fresh machine of this kind or on one already set
# up: install what training needs (Debian's torch, OpenBLAS, and the packages whose Python sources
# make part of the corpus), rebuild the corpus and its tokens if they are missing (recipe/data/ is
# not in git), then start train_until.sh detached on both cores (--procs 2 --threads 1) until HH:MM
# UTC, with bf16 matmuls (--bf16) where the CPU has them natively, and a 25% cooldown. Each step is skipped when it is done already. Needs root for apt-get.
# usage: recipe/start_session.sh 19:35 recipe/runs/session7 [more train.py arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
USAGE="usage: recipe/start_session.sh HH:MM RUN_DIR [train.py arguments]"
UNTIL=${1:?$USAGE}
RUN=${2:?$USAGE}
shift 2
PY=/usr/bin/python3
R=recipe
BLAS=/usr/lib/x86_64-linux-gnu/openblas-pthread

if pgrep -f "recipe/train.py" > /dev/null; then
  echo "start_session.sh: a trainer is already running (pgrep -af recipe/train.py); two would overwrite train_state/" >&2
  exit 1
fi
if ! $PY -c "import torch, numpy, onnx, regex" 2> /dev/null || [ ! -d $BLAS ]; then
  apt-get install -y --no-install-recommends python3-torch python3-numpy python3-onnx python3-regex libopenblas0-pthread
fi
export LD_LIBRARY_PATH="$BLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ ! -f $R/data/tokens/manifest.json ]; then
  # the one apt-get line DATA.md gives for the Python sources
  read -r -a pkgs <<< "$(sed -n 's/^    apt-get install -y --no-install-recommends //p' $R/DATA.md | head -1)"
  apt-get install -y --no-install-recommends "${pkgs[@]}"
  $PY $R/build_corpus.py
  mkdir -p $R/data/tokenizer
  cp models/wisp-code-small/tokenizer.json models/wisp-code-small/tokenizer_config.json $R/data/tokenizer/
  $PY $R/encode_corpus.py
fi
mkdir -p "$RUN"
# nice 0, not train_until.sh's default 19: the session's own tests and evaluations share the
# machine, and the model's tokens are what the session must not lose to them
# a 25% cooldown: session 10's 14 M cooldown tokens beat every 6-8 M one (recipe README, "Weights
# averaged across sessions"); a --cooldown among the arguments comes later and wins
# bf16 matmuls only where the CPU has them natively (avx512_bf16 or AMX): elsewhere torch emulates
# them, and a 2-core EPYC with AVX2 alone trained at ~100 tokens/s with --bf16 (session 12)
BF16=()
if grep -qwE "avx512_bf16|amx_bf16" /proc/cpuinfo; then BF16=(--bf16); fi
TRAIN_NICE=0 setsid nohup $R/train_until.sh "$UNTIL" "$RUN" --procs 2 --threads 1 "${BF16[@]}" --cooldown 0.25 "$@" > /dev/null 2>&1 < /dev/null &
sleep 15
if [ ! -s "$RUN/stdout.log" ]; then
  echo "start_session.sh: train_until.sh wrote nothing to $RUN/stdout.log: is $UNTIL (UTC) a time to come?" >&2
  exit 1
fi
tail -n 2 "$RUN/stdout.log"
echo "training until $UNTIL UTC; log: $RUN/stdout.log; at the end: recipe/finish_session.sh"
