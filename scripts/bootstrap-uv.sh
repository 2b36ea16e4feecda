#!/usr/bin/env bash
# Print the path of a usable uv, installing it into .tools/ when none is on PATH.
# Needs only python3 (with venv or pip); uv itself comes from the package registry.
set -euo pipefail
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
here="$(cd "$(dirname "$0")/.." && pwd)"
tools="$here/.tools"
if [ -x "$tools/bin/uv" ]; then echo "$tools/bin/uv"; exit 0; fi
if python3 -m venv "$tools" >/dev/null 2>&1 && "$tools/bin/python" -m pip --version >/dev/null 2>&1; then
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check uv >&2
  echo "$tools/bin/uv"; exit 0
fi
rm -rf "$tools"
python3 -m pip install --quiet --disable-pip-version-check --target "$tools/lib" uv >&2 \
  || python3 -m pip install --quiet --break-system-packages --target "$tools/lib" uv >&2
mkdir -p "$tools/bin"
ln -sf "$tools/lib/bin/uv" "$tools/bin/uv"
echo "$tools/bin/uv"
