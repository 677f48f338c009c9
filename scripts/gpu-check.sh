#!/usr/bin/env bash
# Wisp on a real GPU, in one run of at most 8 minutes (written for an NVIDIA H200 machine with
# PyTorch, Vulkan and CUDA and no network): WebGPU through the NVIDIA Vulkan driver, the CUDA
# provider where its libraries can be had, the engine's WebGPU exactness tests, and the bench's
# engine figures (prefill, decode ms/token at 512/1,024 past, a keystroke's engine call) on the CPU
# and each GPU provider side by side. Everything lands in OUTDIR (report.txt first).
#
# The GPU machine gets the working tree and a few carried ignored paths, not node_modules. So,
# here first:   scripts/gpu-check.sh --pack      (builds; puts what must travel into .gpu-check/)
# then carry:   dist  out/test/unit/engine  .gpu-check      (about 50 MB) and run there:
#               scripts/gpu-check.sh OUTDIR [--quick]
# --quick: the tiny fixture model and few steps (how this script's own test runs it on a CPU).
# Env: WISP_NODE (a node >= 20 when none is on PATH), WISP_GPU_CHECK_MODEL (model folder).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PACK="$ROOT/.gpu-check"
cd "$ROOT"

if [ "${1:-}" = "--pack" ]; then
  set -e
  npx tsc -p . && node esbuild.js
  rm -rf "$PACK" && mkdir -p "$PACK/node_modules" "$PACK/lib"
  ort="$(node -p "require('path').dirname(require.resolve('onnxruntime-node/package.json'))")"
  common="$ort/node_modules/onnxruntime-common"
  [ -d "$common" ] || common="$(dirname "$ort")/onnxruntime-common"
  mkdir -p "$PACK/node_modules/onnxruntime-node/bin/napi-v6/linux"
  cp -r "$ort/package.json" "$ort/dist" "$ort/lib" "$PACK/node_modules/onnxruntime-node/"
  cp -r "$ort/bin/napi-v6/linux/x64" "$PACK/node_modules/onnxruntime-node/bin/napi-v6/linux/"
  cp -r "$common" "$PACK/node_modules/onnxruntime-common"
  # The Vulkan loader, for a machine that has the NVIDIA driver but not libvulkan.so.1.
  loader="$(ldconfig -p | awk '/libvulkan\.so\.1 .*x86-64/ && !p {p=$NF} END {print p}')"
  if [ -n "$loader" ]; then cp -L "$loader" "$PACK/lib/libvulkan.so.1"; else echo "no libvulkan.so.1 here to carry"; fi
  du -sh "$PACK" dist out/test/unit/engine
  echo "carry: dist out/test/unit/engine .gpu-check"
  exit 0
fi

OUT="${1:?usage: scripts/gpu-check.sh OUTDIR [--quick] | --pack}"
QUICK=""; [ "${2:-}" = "--quick" ] && QUICK=1
mkdir -p "$OUT" && OUT="$(cd "$OUT" && pwd)"
REPORT="$OUT/report.txt"
: >"$REPORT"
say() { echo "$*" | tee -a "$REPORT"; }
t0=$(date +%s)
say "gpu-check $(date -u +%FT%TZ) in $ROOT ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no git'))"

# --- node and onnxruntime-node --------------------------------------------------------------
NODE="${WISP_NODE:-$(command -v node || true)}"
if [ -z "$NODE" ] || [ ! -x "$NODE" ]; then
  say "node: NOT FOUND${NODE:+ at $NODE}. The engine runs on Node.js >= 20: put one on PATH or set WISP_NODE=/path/to/node."
  say "result: not run"
  exit 3
fi
major="$("$NODE" -p 'process.versions.node.split(".")[0]')"
say "node: $NODE $("$NODE" --version)"
if [ "$major" -lt 20 ]; then say "node: version 20 or later needed"; say "result: not run"; exit 3; fi
if [ ! -d "$ROOT/node_modules/onnxruntime-node" ]; then
  if [ -d "$PACK/node_modules/onnxruntime-node" ]; then
    export NODE_PATH="$PACK/node_modules"
    say "onnxruntime-node: carried ($PACK/node_modules)"
  else
    say "onnxruntime-node: NOT FOUND (no node_modules; run scripts/gpu-check.sh --pack and carry .gpu-check)"
    say "result: not run"
    exit 3
  fi
fi
ORT_DIR="$("$NODE" -p "require('path').dirname(require.resolve('onnxruntime-node/package.json'))")"
ORT_VERSION="$("$NODE" -p "require('onnxruntime-node/package.json').version")"
say "onnxruntime-node: $ORT_VERSION in $ORT_DIR"
for f in dist/engine.js dist/device-figures.js out/test/unit/engine/webgpu.test.js; do
  if [ ! -f "$f" ]; then say "missing $f (build with scripts/gpu-check.sh --pack and carry dist, out/test/unit/engine)"; say "result: not run"; exit 3; fi
done

# --- the GPU and its Vulkan driver ----------------------------------------------------------
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$REPORT"
else
  say "gpu: nvidia-smi not found"
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  if [ -f "$PACK/lib/libvulkan.so.1" ]; then
    export LD_LIBRARY_PATH="$PACK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "vulkan loader: carried ($PACK/lib/libvulkan.so.1)"
  else
    say "vulkan loader: libvulkan.so.1 not found, none carried: WebGPU will find no adapter"
  fi
else
  say "vulkan loader: $(ldconfig -p | awk '/libvulkan\.so\.1 / && !p {p=$NF} END {print p}')"
fi
icd=""
for d in /etc/vulkan/icd.d /usr/share/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
  for f in "$d"/nvidia*.json; do [ -f "$f" ] && icd="$f" && break 2; done
done
if [ -z "$icd" ]; then
  glx="$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0 / && !p {p=$NF} END {print p}')"
  if [ -n "$glx" ]; then
    # The driver is there without its manifest (a container's usual case): describe it ourselves.
    icd="$OUT/nvidia_icd.json"
    printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$glx" >"$icd"
    say "vulkan driver: NVIDIA manifest written for $glx"
  fi
fi
DEVICES="cpu,webgpu"
if [ -n "$icd" ]; then
  export VK_ICD_FILENAMES="$icd"
  say "vulkan driver: $icd (VK_ICD_FILENAMES pinned to it)"
else
  say "vulkan driver: no NVIDIA Vulkan driver found; webgpu uses whatever adapter exists, if any"
fi

# --- the CUDA provider ----------------------------------------------------------------------
# onnxruntime-node's CUDA provider libraries do not come from the npm registry. A Python
# onnxruntime-gpu of the same version ships them; the CUDA/cuDNN runtime comes from PyTorch's wheels.
cuda_lib=""
for py in python3 python; do
  command -v "$py" >/dev/null || continue
  found="$("$py" - "$ORT_VERSION" 2>/dev/null <<'EOF'
import importlib.util, os, sys
spec = importlib.util.find_spec("onnxruntime")
if spec and spec.origin:
    capi = os.path.join(os.path.dirname(spec.origin), "capi")
    lib = os.path.join(capi, "libonnxruntime_providers_cuda.so")
    try:
        from importlib.metadata import version
        v = version("onnxruntime-gpu")
    except Exception:
        v = ""
    if os.path.exists(lib):
        print(v, capi)
EOF
)"
  [ -n "$found" ] && break
done
if [ -n "${found:-}" ] && [ "${found%% *}" = "$ORT_VERSION" ]; then
  cuda_lib="${found#* }"
  bin="$ORT_DIR/bin/napi-v6/linux/x64"
  if cp "$cuda_lib/libonnxruntime_providers_cuda.so" "$cuda_lib/libonnxruntime_providers_shared.so" "$bin/" 2>>"$REPORT"; then
    nv="$("$py" -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null || true)"
    if [ -n "$nv" ]; then
      for d in "$nv"/nvidia/*/lib; do LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"; done
      export LD_LIBRARY_PATH
    fi
    DEVICES="$DEVICES,cuda"
    say "cuda: onnxruntime-gpu $ORT_VERSION provider libraries from $cuda_lib"
  else
    say "cuda: skipped (could not copy the provider libraries into $bin)"
  fi
elif [ -n "${found:-}" ]; then
  say "cuda: skipped (onnxruntime-gpu ${found%% *} found, but its provider library must match onnxruntime-node $ORT_VERSION)"
else
  say "cuda: skipped (no onnxruntime CUDA provider library here; it does not come from the npm registry)"
fi

# --- exactness tests and figures ------------------------------------------------------------
MODEL="${WISP_GPU_CHECK_MODEL:-}"
if [ -z "$MODEL" ]; then
  if [ -z "$QUICK" ] && [ -f models/wisp-code-small/onnx/model.onnx ]; then MODEL=models/wisp-code-small; else MODEL=test/fixtures/tiny-gpt; fi
fi
tests=(out/test/unit/engine/webgpu.test.js)
pattern=()
if [ -n "$QUICK" ]; then pattern=(--test-name-pattern 'tiny-gpt'); else tests+=(out/test/unit/engine/device.test.js); fi
say "tests: ${tests[*]}"
# A test runner above this script (its own test) would take the output over: run as a fresh one.
timeout 240 env -u NODE_TEST_CONTEXT "$NODE" --test "${pattern[@]}" "${tests[@]}" >"$OUT/tests.txt" 2>&1
tests_rc=$?
grep -E '^# (tests|pass|fail|skipped)|# max' "$OUT/tests.txt" | sed 's/^/tests: /' | tee -a "$REPORT"
say "tests: exit $tests_rc"

steps=(--steps 8 --keys 12); [ -n "$QUICK" ] && steps=(--steps 2 --keys 2)
say "figures: $MODEL on $DEVICES"
timeout 200 "$NODE" dist/device-figures.js --model "$MODEL" --devices "$DEVICES" "${steps[@]}" \
  --json "$OUT/figures.json" >"$OUT/figures.md" 2>"$OUT/figures.log"
figures_rc=$?
tee -a "$REPORT" <"$OUT/figures.md"
say "figures: exit $figures_rc"
say "done in $(( $(date +%s) - t0 )) s"
if [ "$tests_rc" = 0 ] && [ "$figures_rc" = 0 ]; then say "result: passed"; exit 0; fi
say "result: FAILED"
exit 1
