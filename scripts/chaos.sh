#!/usr/bin/env bash
# The fault test: scripts/cluster.sh's cluster (PostgreSQL, RabbitMQ, two web nodes behind nginx, two workers) under a
# mixed load (returns created, tracking webhooks, receipts, inspections and refunds) while a worker and a web node are
# killed with SIGKILL and RabbitMQ and PostgreSQL are restarted. Then it checks that every acknowledged return, tracking
# event, receipt and refund is recorded and its webhook arrived, that the outbox is empty, and that the sandbox payment
# provider paid no refund twice. The last line is:
#   chaos: accepted=<n> lost=<n> duplicate_refunds=<n> stuck_outbox=<n> recovery_seconds=<n>
# and the exit code is 0 only when lost, duplicate_refunds and stuck_outbox are all 0.
#
#   scripts/chaos.sh            the full form: 5 minutes of load, every fault twice (about 8 minutes in all)
#   scripts/chaos.sh --short    the CI form: 2 minutes of load, every fault once (under 5 minutes in all)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
source scripts/lib.sh

seconds=300 clients=10 orders=4000 short=()
case "${1:-}" in
  --short) seconds=120 clients=6 orders=1500 short=(--short) ;;
  "") ;;
  *) echo "usage: scripts/chaos.sh [--short]" >&2; exit 2 ;;
esac

export RETOUR_CLUSTER_DIR="${RETOUR_CLUSTER_DIR:-/tmp/retour-chaos-$$}"
# One API key drives the whole load; the sandbox carrier books labels but sends no tracking of its own (the load does);
# the payment provider's unknown answers are retried quickly, as are webhooks, so the books settle within the run.
export RETOUR_RATE_LIMIT=0 RETOUR_SANDBOX_AUTOPILOT=false RETOUR_PAYMENT_TIMEOUT_MS=1000 RETOUR_REFUND_RETRY_MS=500 \
  RETOUR_REFUND_MAX_ATTEMPTS=8 RETOUR_WEBHOOK_RETRY_MS=1000
trap 'scripts/cluster.sh down >/dev/null 2>&1 || true' EXIT

lb=$(scripts/cluster.sh up | tail -n 1)
source "$RETOUR_CLUSTER_DIR/cluster.env"
log "Building the load driver"
dotnet build bench/Retour.Bench -c Release -v quiet -nologo >"$RETOUR_CLUSTER_DIR/logs/bench-build.log" 2>&1 \
  || { tail -n 30 "$RETOUR_CLUSTER_DIR/logs/bench-build.log" >&2; exit 1; }
log "Creating the merchant 'chaos'"
key=$(RETOUR_DB_PROVIDER=postgres RETOUR_DB="$DB_URL" RETOUR_LOG_FORMAT=text dotnet src/Retour/bin/Release/net10.0/retour.dll \
  merchant create --slug chaos --name "Chaos shop" | sed -n 's/^Admin API key[^:]*: *//p' | head -n 1)
[ -n "$key" ] || { echo "Could not create the merchant." >&2; exit 1; }

set +e
# The driver's own contract line is held back and printed once, last, after any diagnostics. The short form is bounded.
timeout "$((seconds + 240))" dotnet bench/Retour.Bench/bin/Release/net10.0/Retour.Bench.dll chaos --attach "$lb" --key "$key" --db "$DB_URL" \
  --cluster "$here/scripts/cluster.sh" -t "$seconds" -c "$clients" --orders "$orders" "${short[@]}" \
  | tee "$RETOUR_CLUSTER_DIR/logs/chaos.out" | grep --line-buffered -v '^chaos: accepted='
code=${PIPESTATUS[0]}
set -e
if [ "$code" -ne 0 ]; then
  log "The fault test failed (exit $code); the nodes' last errors:"
  for f in "$RETOUR_CLUSTER_DIR"/logs/{web,worker}*.log; do
    grep -h '"LogLevel":"\(Error\|Critical\)"' "$f" 2>/dev/null | tail -n 3 | cut -c1-400 | sed "s|^|  $(basename "$f"): |" >&2 || true
  done
fi
line=$(grep '^chaos: accepted=' "$RETOUR_CLUSTER_DIR/logs/chaos.out" | tail -n 1 || true)
# A driver that died before its report has no figures: -1 says so in the contract's format.
echo "${line:-chaos: accepted=-1 lost=-1 duplicate_refunds=-1 stuck_outbox=-1 recovery_seconds=-1}"
[ -n "$line" ] || code=1
exit "$code"
