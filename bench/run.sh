#!/usr/bin/env bash
# Runs the benchmark: builds Release, starts a throwaway PostgreSQL (from Debian, installed when missing),
# and runs bench/Retour.Bench on PostgreSQL and SQLite. Extra arguments go to the bench (e.g. -c 32 -t 20).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
PG_DIR=$(mktemp -d /tmp/retour-bench-pg.XXXXXX)
trap 'pg_stop "$PG_DIR"' EXIT
# A production-like server: durable commits (fsync on), sized for the bench's connections.
PG_EXTRA_OPTS="-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=256MB" pg_start "$PG_DIR"
need_npm
dotnet build Retour.slnx -c Release -v quiet -nologo
dotnet bench/Retour.Bench/bin/Release/net10.0/Retour.Bench.dll --pg "$PG_URL" "$@"
