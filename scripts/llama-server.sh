#!/usr/bin/env bash
# Ensure a llama.cpp `llama-server` built from source exists in a cache outside the repository,
# and print its path (the only thing written to stdout; progress goes to stderr).
#
#   scripts/llama-server.sh              # build if missing, print the binary path (see the build time below)
#   scripts/llama-server.sh --gguf-py    # print the path of llama.cpp's gguf-py (the GGUF writer), no build
#   scripts/llama-server.sh --src        # print the path of the llama.cpp source tree, no build
#   scripts/llama-server.sh --check      # print the binary path if it is built, else exit 1 (never builds)
#
# Source: the npm package node-llama-cpp (pinned below) ships llama.cpp's source as a git bundle
# (llama/gitRelease.bundle). Only that package's tarball is fetched, with `npm pack`, into the cache:
# no dependencies, no install scripts, no prebuilt binaries, nothing in the repository's package.json.
#
# Cache: ${WISP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wisp}/llama.cpp-<commit>/
#   src/                llama.cpp at <commit> (a clone of the bundle), gguf-py at src/gguf-py
#   build-<cpu>/bin/    llama-server, built for this machine's x86 feature level (<cpu>: avx512 or avx2)
# Idempotent and safe to run concurrently (flock). Run as root, it apt-installs cmake, g++, make
# and git when they are missing. Build time: 14 CPU-minutes (`nice -n 10`, -j2; 21 min wall on a
# 2-core VM that was also training; the worked example's idle 2 cores took 5 min). Later runs: ~10 ms.
set -euo pipefail

NODE_LLAMA_CPP_VERSION=3.22.1   # ships llama.cpp de3ff81 (2026-09-28)
LLAMA_COMMIT=de3ff81            # expected HEAD of the bundle; checked after cloning
JOBS=${WISP_LLAMA_JOBS:-2}

CACHE_ROOT=${WISP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wisp}
ROOT="$CACHE_ROOT/llama.cpp-$LLAMA_COMMIT"
SRC="$ROOT/src"

log() { printf '[llama-server.sh] %s\n' "$*" >&2; }

# x86 feature level. Never GGML_NATIVE: these VMs may advertise AMX and a native build then dies
# with "Illegal instruction" on quantized models. AMX stays off in every variant.
cpu_variant() {
  local flags
  flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
  if [[ " $flags " == *" avx512f "* && " $flags " == *" avx512bw "* && " $flags " == *" avx512vl "* ]]; then
    echo avx512
  elif [[ " $flags " == *" avx2 "* && " $flags " == *" fma "* && " $flags " == *" f16c "* ]]; then
    echo avx2
  else
    echo generic
  fi
}
cmake_cpu_flags() {
  local flags common="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
  case "$1" in
    avx512)
      local vnni=OFF avxvnni=OFF
      [[ " $flags " == *" avx512_vnni "* ]] && vnni=ON
      [[ " $flags " == *" avx_vnni "* ]] && avxvnni=ON
      echo "$common -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" \
           "-DGGML_AVX512=ON -DGGML_AVX512_VNNI=$vnni -DGGML_AVX_VNNI=$avxvnni" ;;
    avx2)
      echo "$common -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF" ;;
    *)
      echo "$common -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_AVX512=OFF" ;;
  esac
}

VARIANT=$(cpu_variant)
BUILD="$ROOT/build-$VARIANT"
BIN="$BUILD/bin/llama-server"

mode=${1:-build}
case "$mode" in
  build|--build) mode=build ;;
  --gguf-py|--src|--check) ;;
  -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
  *) log "unknown argument: $mode (try --help)"; exit 2 ;;
esac

if [[ $mode == --check ]]; then
  if [[ -x $BIN && -f $BUILD/.wisp-built ]]; then echo "$BIN"; exit 0; fi
  exit 1
fi
if [[ $mode == build && -x $BIN && -f $BUILD/.wisp-built ]]; then echo "$BIN"; exit 0; fi
if [[ $mode == --gguf-py && -f $SRC/gguf-py/gguf/__init__.py && -f $SRC/.wisp-src-ok ]]; then echo "$SRC/gguf-py"; exit 0; fi
if [[ $mode == --src && -f $SRC/.wisp-src-ok ]]; then echo "$SRC"; exit 0; fi

ensure_tools() {
  local missing=() t pkgs=()
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  ((${#missing[@]})) || return 0
  for t in "${missing[@]}"; do
    case "$t" in
      g++) pkgs+=(g++) ;; cmake) pkgs+=(cmake) ;; make) pkgs+=(make) ;; git) pkgs+=(git) ;;
      *) log "missing tool: $t"; exit 1 ;;
    esac
  done
  if [[ $(id -u) -ne 0 ]]; then
    log "missing: ${missing[*]}; install them (Debian: apt-get install ${pkgs[*]}) or run as root"
    exit 1
  fi
  log "installing Debian packages: ${pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >&2; }
}

mkdir -p "$ROOT"
exec 9>"$ROOT/.lock"
flock 9   # another run may be building; wait for it, then re-check
if [[ $mode == build && -x $BIN && -f $BUILD/.wisp-built ]]; then echo "$BIN"; exit 0; fi

# --- source: node-llama-cpp's git bundle -> $SRC --------------------------------------------------
if [[ ! -f $SRC/.wisp-src-ok ]]; then
  ensure_tools git tar npm
  pkgdir="$ROOT/npm"
  rm -rf "$pkgdir" "$SRC"
  mkdir -p "$pkgdir"
  log "fetching node-llama-cpp@$NODE_LLAMA_CPP_VERSION (npm pack; no dependencies, no scripts)"
  (cd "$pkgdir" && npm pack --silent "node-llama-cpp@$NODE_LLAMA_CPP_VERSION" >/dev/null)
  tar -xzf "$pkgdir/node-llama-cpp-$NODE_LLAMA_CPP_VERSION.tgz" -C "$pkgdir" package/llama/gitRelease.bundle
  git -c advice.detachedHead=false clone -q "$pkgdir/package/llama/gitRelease.bundle" "$SRC"
  head=$(git -C "$SRC" rev-parse HEAD)
  if [[ $head != "$LLAMA_COMMIT"* ]]; then
    log "bundle HEAD is $head, expected $LLAMA_COMMIT; update LLAMA_COMMIT together with the version"
    exit 1
  fi
  rm -rf "$pkgdir"   # the clone holds everything; the 35 MB tarball is not needed again
  echo "$head node-llama-cpp@$NODE_LLAMA_CPP_VERSION" >"$SRC/.wisp-src-ok"
fi
if [[ $mode == --gguf-py ]]; then echo "$SRC/gguf-py"; exit 0; fi
if [[ $mode == --src ]]; then echo "$SRC"; exit 0; fi

# --- build ------------------------------------------------------------------------------------------
ensure_tools cmake g++ make
log "building llama-server ($VARIANT, -j$JOBS, nice 10) in $BUILD; 14 CPU-minutes"
start=$(date +%s)
rm -rf "$BUILD"
# shellcheck disable=SC2046
nice -n 10 cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
  $(cmake_cpu_flags "$VARIANT") >"$ROOT/cmake-configure-$VARIANT.log" 2>&1 ||
  { tail -30 "$ROOT/cmake-configure-$VARIANT.log" >&2; exit 1; }
nice -n 10 cmake --build "$BUILD" --target llama-server -j "$JOBS" >"$ROOT/cmake-build-$VARIANT.log" 2>&1 ||
  { tail -30 "$ROOT/cmake-build-$VARIANT.log" >&2; exit 1; }
"$BIN" --version >&2
secs=$(( $(date +%s) - start ))
log "built in ${secs}s: $BIN"
printf 'commit=%s variant=%s seconds=%s date=%s\n' "$LLAMA_COMMIT" "$VARIANT" "$secs" "$(date -u +%FT%TZ)" >"$BUILD/.wisp-built"
echo "$BIN"
