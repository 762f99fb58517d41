#!/usr/bin/env bash
# Runs Retour on the embedded default (SQLite under ./data, with the demo merchant "demo").
# Installs the fonts return labels are drawn with (Latin, Cyrillic, Arabic, Korean) from Debian when they are missing.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
source "$here/scripts/lib.sh"
command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (https://dot.net)." >&2; exit 1; }
apt_install fonts-noto-core fonts-nanum fonts-dejavu-core || log "Could not install the label fonts; labels will fail until fonts-noto-core and fonts-nanum are installed."
need_npm
# A local try-out: webhooks may go to a receiver on this machine (production leaves this off).
export RETOUR_WEBHOOK_ALLOW_LOCAL="${RETOUR_WEBHOOK_ALLOW_LOCAL:-true}"
exec dotnet run --project "$here/src/Retour" "$@"
