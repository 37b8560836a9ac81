#!/usr/bin/env bash
# Cài đặt và chạy kiểm thử / set up and run the whole test suite against the installed wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
# the layers (pyproject's [tool.importlinter]) and the types, on the installed package
.venv/bin/lint-imports
.venv/bin/python -m mypy -p yte_compliance.core -p yte_compliance.checks -p yte_compliance.collector
export YTE_WHEEL
YTE_WHEEL=$(ls "$PWD"/dist/yte_compliance-*.whl)
exec .venv/bin/python -m pytest --durations=10 "$@"
