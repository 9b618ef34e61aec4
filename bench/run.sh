#!/usr/bin/env bash
# The load benchmark: publishes the service and the baseline in Release, then runs bench/harness.py,
# which starts both on loopback, seeds the register over HTTP and drives each scenario with wrk.
# Usage: bench/run.sh [harness options]   e.g. bench/run.sh --duration 5 --products 20000
# (bench/harness.py --help lists them; defaults: 15 s runs, 2 alternated rounds, 64 connections,
# 2 wrk threads, 100,000 products; about 10 minutes in all)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

out=artifacts/bench
dotnet publish src/Cpm.Api/Cpm.Api.csproj -c Release -o "$out/service" --nologo -v quiet
dotnet publish bench/Baseline/Baseline.csproj -c Release -o "$out/baseline" --nologo -v quiet

exec python3 bench/harness.py --service "$out/service/Cpm.Api.dll" --baseline "$out/baseline/Baseline.dll" "$@"
