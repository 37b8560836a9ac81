#!/usr/bin/env bash
# Cài đặt và chạy kiểm thử / set up and run the whole test suite against the installed wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
export YTE_WHEEL
YTE_WHEEL=$(ls "$PWD"/dist/yte_compliance-*.whl)
exec .venv/bin/python -m pytest --durations=10 "$@"
