#!/usr/bin/env bash
# Install, on a fresh Debian 12 CI machine (root), what the real-target tests need: debootstrap to build
# Ubuntu 24.04 / Debian 12 root filesystems, Ubuntu's archive keyring (not packaged in Debian 12), and promtool
# (Debian's prometheus package) for the DCGM alert rules' `promtool test rules` tests, Graphviz and Chromium
# for `newinfra report` and its browser test.
# Idempotent and quiet; the Python side (ansible, ansible-lint, nvidia-ml-py) comes from the pyproject extra.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# Ubuntu's ubuntu-keyring package, pinned by hash, from Ubuntu's own archive; the archive key inside is then
# checked against its published fingerprint before debootstrap trusts it.
UBUNTU_KEYRING_DEB_URL="http://archive.ubuntu.com/ubuntu/pool/main/u/ubuntu-keyring/ubuntu-keyring_2023.11.28.1_all.deb"
UBUNTU_KEYRING_DEB_SHA256="36de43b15853ccae0028e9a767613770c704833f82586f28eb262f0311adb8a8"
UBUNTU_ARCHIVE_KEY_FPR="F6ECB3762474EDA9D21B7022871920D1991BC93C"  # Ubuntu Archive Automatic Signing Key (2018)
KEYRING=/usr/local/share/keyrings/ubuntu-archive-keyring.gpg

need=()
for cmd in debootstrap gpg curl; do command -v "$cmd" >/dev/null || need+=("$cmd"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  pkgs=(debootstrap)
  command -v gpg >/dev/null || pkgs+=(gpg)
  command -v curl >/dev/null || pkgs+=(curl)
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" ca-certificates >/dev/null
fi

# Only promtool is needed; --no-install-recommends keeps the server's web assets' extras out. The package's
# postinst may start a prometheus service where systemd runs; nothing of the tests talks to it.
if ! command -v promtool >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

# `newinfra report` lays its resource graph out with Graphviz's `dot`; its slow test opens the page in headless
# Chromium (Debian's chromium: no browser download at test time).
if ! command -v dot >/dev/null || ! command -v chromium >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends graphviz chromium >/dev/null
fi

if [ ! -s "$KEYRING" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  curl -fsSL -o "$work/keyring.deb" "$UBUNTU_KEYRING_DEB_URL"
  echo "$UBUNTU_KEYRING_DEB_SHA256  $work/keyring.deb" | sha256sum --check --quiet
  dpkg-deb --extract "$work/keyring.deb" "$work/x"
  gpg --show-keys --with-colons "$work/x/usr/share/keyrings/ubuntu-archive-keyring.gpg" 2>/dev/null \
    | grep -q "^fpr:::::::::${UBUNTU_ARCHIVE_KEY_FPR}:" \
    || { echo "ci-setup: Ubuntu archive key fingerprint mismatch" >&2; exit 1; }
  install -D -m 0644 "$work/x/usr/share/keyrings/ubuntu-archive-keyring.gpg" "$KEYRING"
fi
