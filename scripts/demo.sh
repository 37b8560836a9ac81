#!/usr/bin/env bash
# Cài đặt và chạy thử / set up, then run the collector + this machine's agent on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/yte demo "$@"
