#!/usr/bin/env bash
# The README's test command: on a fresh Debian 12 machine with Node 20 (as root), installs what the
# tests need, then runs every test. Fails if any test fails or cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v /usr/lib/postgresql/15/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)   # SIP load and interop peers
command -v baresip >/dev/null 2>&1 || need+=(baresip-core)   # tests/phones: a real softphone as the desk phone
[ -x /usr/bin/chromium ] || need+=(chromium)   # the web app's browser tests (playwright-core drives it)
command -v turnserver >/dev/null 2>&1 || need+=(coturn)   # the TURN call test relays through it
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)   # packages/media's spoken prompts
command -v rtpengine >/dev/null 2>&1 || need+=(rtpengine-daemon)   # the rtpengine media driver's tests
command -v kamailio >/dev/null 2>&1 || need+=(kamailio)   # bench/b2bua's reference proxy (started by the bench, never as a service)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "need root to install: ${need[*]}" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  # Debian enables Kamailio's own service on 5060; the benchmark starts its own on a free port.
  # Without systemd its init script may have started it anyway: stop that one too.
  if [[ " ${need[*]} " == *" kamailio "* ]]; then
    systemctl disable --now kamailio >/dev/null 2>&1 || true
    pkill -x kamailio >/dev/null 2>&1 || true
  fi
fi
# The Debian package starts its own cluster on 5432; the tests start their own on a free port.
npm ci --no-audit --no-fund
npm run lint          # no path outside the repository, prettier --check, the TypeScript typecheck
npm test
