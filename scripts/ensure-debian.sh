#!/usr/bin/env bash
# Debian packages the tests drive as real parts: Chromium for the dashboard's browser tests
# (Playwright cannot download browsers here) and redis-server for the distributed collectors.
# Usage: ensure-debian.sh COMMAND=PACKAGE ...; installs with apt only what is missing.
set -euo pipefail
missing=()
for pair in "$@"; do
    cmd="${pair%%=*}"
    pkg="${pair#*=}"
    if ! command -v "$cmd" >/dev/null 2>&1; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
for pair in "$@"; do
    command -v "${pair%%=*}"
done
