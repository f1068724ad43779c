#!/usr/bin/env bash
# Install what building and testing prtarget needs on Debian 12, skipping what is already there.
# Idempotent; non-interactive. Run as root (or with sudo available). `--with-tgt` also installs tgt (bench.sh).
set -euo pipefail

pkgs=(cmake make gcc libc6-dev clang pkg-config libuv1-dev libiscsi-dev libiscsi-bin libcmocka-dev libjansson-dev sg3-utils)
for a in "$@"; do
    case "$a" in
        --with-tgt) pkgs+=(tgt iproute2) ;;
        *) echo "setup.sh: unknown option $a (use --with-tgt)" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup.sh: all ${#pkgs[@]} packages already installed"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "setup.sh: installing ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
