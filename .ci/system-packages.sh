#!/usr/bin/env bash
# Debian packages the project needs beyond Python: installed once, skipped when present.
# - chromium: the browser test of the feedback pages and the class report
# - fonts-noto-cjk: Japanese text in matplotlib charts and in the browser
# - postgresql: the PostgreSQL gradebook tests (a private server on loopback)
# - dataset-fashion-mnist: full-size (60 000 rows) benchmark data
set -euo pipefail
PACKAGES=(chromium fonts-noto-cjk postgresql dataset-fashion-mnist)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
  echo "Missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "Installing Debian packages: ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
