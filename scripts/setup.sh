#!/usr/bin/env bash
# Chuẩn bị máy / prepare this machine: Debian packages (when root), then the project's
# wheel built and installed into .venv the way users install it (not editable).
# Usage: scripts/setup.sh [--test]   (--test adds test-only packages, tools and every extra)
set -euo pipefail
cd "$(dirname "$0")/.."

runtime_debs=(python3-venv iproute2 openssl)
test_debs=(wixl msitools victoria-metrics openssh-server prometheus prometheus-node-exporter prometheus-pushgateway prometheus-alertmanager nftables iptables iperf3 wrk chromium poppler-utils tesseract-ocr tesseract-ocr-vie tcpdump libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
debs=("${runtime_debs[@]}")
[ "${1:-}" = "--test" ] && debs+=("${test_debs[@]}")

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "apt: cài / installing ${missing[*]}"
    # Packaged daemons must not start as services on a test machine.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: not root, Debian packages missing: ${missing[*]} (tests needing them will skip)" >&2
  fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip -q --disable-pip-version-check)
# The wheel users get: built from this tree into dist/, then installed like any wheel.
rm -rf dist build
"${pip[@]}" wheel --no-deps -w dist . >/dev/null
rm -rf build ./*.egg-info  # left by the build; an egg-info here would shadow the installed metadata
wheel=$(ls dist/yte_compliance-*.whl)
extras="collector"
[ "${1:-}" = "--test" ] && extras="all,test"
"${pip[@]}" uninstall -y yte-compliance >/dev/null 2>&1 || true
"${pip[@]}" install "${wheel}[${extras}]"
echo "cài / installed $(basename "$wheel") [${extras}] into .venv"
