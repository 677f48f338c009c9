#!/usr/bin/env bash
# @vscode/ripgrep's postinstall downloads rg from GitHub, which CI cannot reach. When it finds
# the release tarball already in its download cache it uses that instead ("Using cached
# download"), so put Debian's rg there under the name it looks for.
# usage: seed-ripgrep.sh <@vscode/ripgrep npm version> [ripgrep release tag]
set -euo pipefail
RG_NPM_VERSION="${1:?usage: seed-ripgrep.sh <@vscode/ripgrep version> [tag]}"
RG_TAG="${2:-v13.0.0-10}"   # the tag @vscode/ripgrep 1.15.x asks for on linux-x64
RG_BIN="$(command -v rg)" || { echo "seed-ripgrep: Debian's ripgrep is not installed" >&2; exit 1; }

cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-${RG_NPM_VERSION}"
mkdir -p "$cache"
stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
cp "$RG_BIN" "$stage/rg"
tar czf "$cache/ripgrep-${RG_TAG}-x86_64-unknown-linux-musl.tar.gz" -C "$stage" rg
echo "seed-ripgrep: $cache"
