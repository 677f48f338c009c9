#!/usr/bin/env bash
# One GPU run of at most 9 minutes (recipe/README.md, "GPU run"): unpack the carried corpus, probe
# model sizes for ~30 s, train the chosen one until 470 s after the start, evaluate, and write the
# weights (fp16 safetensors in <= 15 MiB parts), log.jsonl, state.json and summary.json to OUT.
#
# device:   bash recipe/train_gpu.sh "$OUT"            (the call carries recipe/gpu-pack)
# CPU test: WISP_GPU_CPU=1 bash recipe/train_gpu.sh /tmp/wisp-gpu-out     (tiny sizes, ~1 min)
# Extra arguments go to train_gpu.py, e.g. `--mode fresh`, `--compile off`, `--train_end 400`.
set -uo pipefail
START=$(date +%s.%N)
START_S=${START%.*}
OUT=${1:?usage: train_gpu.sh OUT_DIR [train_gpu.py options]}
shift
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3 || command -v python)}
PACK=${WISP_GPU_PACK:-recipe/gpu-pack/tokens.tar.xz}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wisp-gpu.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
exec > >(tee -a "$OUT/train_gpu.out") 2>&1

if [ "${WISP_GPU_CPU:-}" = 1 ]; then
  HARD=${WISP_GPU_HARD_S:-110}   # kill the trainer this many seconds after the start
  ARGS=(--cpu --train_end 45 --probe_s 8 --save_s 20 --eval_s 1000 --batch_size 4 --chunk 4 --eval_batches 1)
else
  HARD=${WISP_GPU_HARD_S:-530}
  ARGS=()
fi

echo "train_gpu.sh: start $(date -u +%FT%TZ), python $PY, pack $PACK, out $OUT"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,memory.used --format=csv,noheader
nproc

if [ ! -f "$PACK" ]; then
  echo "no $PACK: run 'recipe/pack_tokens.py pack' here and carry recipe/gpu-pack" >&2
  echo '{"complete": false, "error": "pack missing"}' > "$OUT/summary.json"
  exit 2
fi
if ! "$PY" recipe/pack_tokens.py unpack --pack "$PACK" --dest "$WORK/data"; then
  echo '{"complete": false, "error": "unpack failed"}' > "$OUT/summary.json"
  exit 3
fi
echo "unpacked after $(( $(date +%s) - START_S )) s"

LEFT=$(( HARD - ($(date +%s) - START_S) ))
timeout -k 5 "$LEFT" "$PY" -u recipe/train_gpu.py --out "$OUT" --data "$WORK/data" --start "$START" \
  "${ARGS[@]}" "$@"
RC=$?
echo "train_gpu.py exit $RC after $(( $(date +%s) - START_S )) s"
ls -la "$OUT"
exit $RC
