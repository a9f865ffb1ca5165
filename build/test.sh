#!/usr/bin/env bash
# Quick start, command 2: install everything (dev extras, Debian's chromium when
# missing) and run the whole test suite, browser tests included. CI runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests..."
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if ! command -v cc >/dev/null; then   # tests/unit/test_launcher.py compiles the single executable's launcher
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gcc libc6-dev >/dev/null
fi
if ! command -v pdftoppm >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq poppler-utils >/dev/null || true
fi

# axe-core, the accessibility checker the browser tests inject into every page (from the npm registry,
# pinned; tests/browser/test_screens.py reads build/node/node_modules/axe-core/axe.min.js).
AXE_VERSION=4.14.1
if ! grep -qs "\"version\": \"$AXE_VERSION\"" build/node/node_modules/axe-core/package.json; then
  if ! command -v npm >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null
  fi
  npm install --prefix build/node --no-audit --no-fund --no-save --silent "axe-core@$AXE_VERSION"
fi

# Lint first: a wrong import or an unused name fails the run before the tests start.
.venv/bin/ruff check app tests build
# Types next (pyproject.toml [tool.mypy]): strict on the logic modules, money and the records, checked elsewhere.
.venv/bin/mypy

# pytest exits 5 when it collected nothing: set -e turns that into a failure too.
# The browser tests run on their own: Playwright's sync API keeps an event loop running
# in its worker, which the service-level tests (asyncio.run) must never share.
.venv/bin/python -m pytest -n 2 -p no:cacheprovider tests --ignore=tests/browser "$@"
.venv/bin/python -m pytest -n 2 -p no:cacheprovider tests/browser "$@"
# The smoke test of the program as a user starts it (python -m app; see build/smoke).
bash build/smoke
# The single executable, built and smoke-tested (issue 21: CI builds it while the whole run stays under an
# hour: ~17 min of tests and ~18 min of a cold Nuitka build on two cores, 5-6 min with ccache warm).
# COUNTERFOIL_BUILD_BINARY=0 build/test.sh leaves it out of a quick local run.
if [ "${COUNTERFOIL_BUILD_BINARY:-1}" = 1 ]; then
  bash build/build-binary
  bash build/smoke build/out/counterfoil
fi
