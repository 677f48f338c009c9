#!/usr/bin/env bash
# Installs code-server (a real VS Code: server, web workbench and a Node extension host, so
# native modules such as onnxruntime-node load) from the npm registry, with no other network.
# usage: install-code-server.sh [DEST] [VERSION]   ->  DEST/node_modules/.bin/code-server
# Idempotent: does nothing when DEST already holds that version.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VERSION="${2:-${CODE_SERVER_VERSION:-4.100.3}}"   # newest code-server whose engines.node allows Node 20
DEST="${1:-$ROOT/.vscode-test/code-server-$VERSION}"
BIN="$DEST/node_modules/.bin/code-server"

if [ -x "$BIN" ] && [ "$(node -p "require('$DEST/node_modules/code-server/package.json').version" 2>/dev/null)" = "$VERSION" ]; then
  echo "code-server $VERSION already installed in $DEST"
  exit 0
fi

# Build tools for the server's native addons (kerberos has no prebuilt binary for Node 20 here)
# and Debian's rg for the ripgrep seed. Only installs what is missing.
need=()
for pair in rg:ripgrep krb5-config:libkrb5-dev make:make g++:g++ python3:python3; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair##*:}")
done
if ((${#need[@]})); then
  if [ "$(id -u)" != 0 ]; then echo "install-code-server: missing Debian packages: ${need[*]} (run as root or install them)" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null
fi

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
# Ask code-server's own lock file which @vscode/ripgrep it will install, so the seed matches.
(cd "$work" && npm pack "code-server@$VERSION" --silent >/dev/null \
  && tar xzf code-server-*.tgz package/lib/vscode/npm-shrinkwrap.json)
rg_version="$(node -p "(require('$work/package/lib/vscode/npm-shrinkwrap.json').packages['node_modules/@vscode/ripgrep'] || {}).version || ''")"
if [ -n "$rg_version" ]; then "$HERE/seed-ripgrep.sh" "$rg_version"; fi

mkdir -p "$DEST"
cd "$DEST"
[ -f package.json ] || echo '{ "name": "wisp-vscode-test-host", "private": true }' > package.json
# unsafe_perm: code-server's postinstall refuses to run as root without it.
# yes: node-pty's postinstall runs `npx node-gyp`; a user .npmrc with yes=false would cancel it.
npm_config_unsafe_perm=true npm_config_yes=true \
  npm install --no-audit --no-fund "code-server@$VERSION"
XDG_CONFIG_HOME="$work" XDG_DATA_HOME="$work" "$BIN" --version
