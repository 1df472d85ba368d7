#!/usr/bin/env bash
# HTTP throughput of the runtime next to a bare hyper server, both measured with wrk in one run.
# Installs wrk (Debian package) when it is missing. Extra arguments go to cargo bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v wrk >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk
fi
exec cargo bench -p bench-runtime --bench http_vs_bare "$@"
