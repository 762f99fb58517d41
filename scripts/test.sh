#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine: installs what the tests need from Debian when it is missing,
# starts a throwaway PostgreSQL, RabbitMQ and an SMTP sink on 127.0.0.1, runs every test on SQLite and then on PostgreSQL,
# then the browser tests and the short fault test (a local scaled-mode cluster, scripts/chaos.sh --short), and stops it all again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (https://dot.net)." >&2; exit 1; }

# Fonts for the return labels and the portal (Latin and Cyrillic, Arabic, Korean), poppler-utils for reading PDFs back,
# and Debian's Chromium, which the browser tests drive through Playwright (its own browser download is never used).
# python3-aiosmtpd is the SMTP sink the notification tests send real email to; rabbitmq-server is scaled mode's broker,
# and nginx its load balancer in the fault test.
apt_install fonts-noto-core fonts-nanum fonts-dejavu-core poppler-utils chromium python3-aiosmtpd rabbitmq-server nginx
need_npm

PG_DIR=$(mktemp -d /tmp/retour-pg.XXXXXX)
SMTP_DIR=$(mktemp -d /tmp/retour-smtp.XXXXXX)
RMQ_DIR=$(mktemp -d /tmp/retour-rmq.XXXXXX)
trap 'pg_stop "$PG_DIR"; smtp_stop "$SMTP_DIR"; rmq_stop "$RMQ_DIR"' EXIT
log "Starting a throwaway PostgreSQL"
pg_start "$PG_DIR"
log "Starting an SMTP sink"
smtp_start "$SMTP_DIR"
log "Starting a throwaway RabbitMQ"
rmq_start "$RMQ_DIR"
export RETOUR_TEST_RABBITMQ="$RMQ_URL"

log "Building"
dotnet build Retour.slnx -c Release -v quiet -nologo

results=0
log "Tests on SQLite"
RETOUR_TEST_DB=sqlite dotnet test tests/Retour.Tests -c Release --no-build -nologo || results=1
log "Tests on PostgreSQL (port $PG_PORT)"
RETOUR_TEST_DB=postgres RETOUR_TEST_PG="$PG_URL" dotnet test tests/Retour.Tests -c Release --no-build -nologo || results=1
log "Browser tests: the shopper portal and the staff console in Chromium, on PostgreSQL (screenshots in artifacts/screenshots/)"
RETOUR_TEST_DB=postgres RETOUR_TEST_PG="$PG_URL" dotnet test tests/Retour.BrowserTests -c Release --no-build -nologo || results=1

log "Fault test (scripts/chaos.sh --short): a scaled-mode cluster under load while nodes, RabbitMQ and PostgreSQL fail"
scripts/chaos.sh --short || results=1

[ $results -eq 0 ] && log "All tests passed on SQLite and PostgreSQL, in the browser, and under faults" || log "Some tests failed"
exit $results
