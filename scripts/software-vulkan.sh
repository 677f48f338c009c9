#!/usr/bin/env bash
# Installs Mesa's software Vulkan driver (lavapipe) from Debian's bookworm-backports suite, so
# onnxruntime-node's WebGPU provider (Dawn on Vulkan) finds an adapter on a machine without a GPU
# and the tests exercise the WebGPU path. Debian 12's own Mesa (22.3) lacks features Dawn requires
# ("No supported adapters"); Mesa 25 from backports is accepted.
#
# The suite is enabled from the mirror the machine's apt sources already use: no host name is
# written here. Idempotent: does nothing when a Mesa >= 25 lavapipe is installed. Only on Debian 12
# (bookworm); elsewhere, or without root, it says why and exits 0 (the tests then skip WebGPU).
# usage: scripts/software-vulkan.sh
set -euo pipefail

installed_major() {
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed -n 's/^\([0-9]*\)\..*/\1/p'
}

major="$(installed_major || true)"
if [ -n "$major" ] && [ "$major" -ge 25 ]; then
  echo "software-vulkan: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"
  exit 0
fi
if ! grep -qs '^VERSION_CODENAME=bookworm$' /etc/os-release; then
  echo "software-vulkan: not Debian 12 (bookworm); skipped (WebGPU tests skip without an adapter)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "software-vulkan: not root; skipped. As root: $0 (WebGPU tests skip without an adapter)"
  exit 0
fi

# The main archive's URI, from a deb822 .sources file or a one-line sources.list entry.
uri=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  uri="$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)|: *bookworm( |$)/ && u {print u; exit}' "$f")"
  [ -n "$uri" ] && break
done
if [ -z "$uri" ]; then
  uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { if ($(i+1) == "bookworm") print $i; break } }' | head -1)"
fi
if [ -z "$uri" ]; then
  echo "software-vulkan: no bookworm entry in the apt sources to take a mirror from" >&2
  exit 1
fi

list=/etc/apt/sources.list.d/wisp-bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' \
    "$uri" /usr/share/keyrings/debian-archive-keyring.gpg >"$list"
  echo "software-vulkan: enabled bookworm-backports from $uri in $list"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "software-vulkan: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
