#!/usr/bin/env bash
# The load generator next to wrk, a tokio-timer pacer and nginx, in one run (see
# loadgen/benches/instrument.rs). Installs wrk and nginx (Debian packages) when missing.
# Arguments are modes: throughput, pacing, nginx, memory (default: the first three).
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
exec cargo bench -p loadgen --bench instrument -- "$@"
