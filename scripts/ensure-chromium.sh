#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser tests (Playwright drives it; browsers cannot be
# downloaded by Playwright here). Installs it with apt when it is missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
command -v chromium
