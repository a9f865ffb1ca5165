#!/usr/bin/env bash
# Quick start, command 1: install into ./.venv and start Counterfoil (opens the browser).
# Needs only Python 3.11+. Extra arguments go to `counterfoil serve` (e.g. --no-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e . 
exec .venv/bin/counterfoil serve "$@"
