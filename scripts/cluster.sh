#!/usr/bin/env bash
# A local scaled-mode cluster on 127.0.0.1, from Debian packages: PostgreSQL, RabbitMQ, two web nodes behind nginx and
# two workers, each its own `retour` process with /health/live and /health/ready.
#
#   scripts/cluster.sh up        start it (builds Retour first); the last line printed is the load balancer's base URL
#   scripts/cluster.sh status    each part, its PID and readiness, the queue depths and the outbox backlog
#   scripts/cluster.sh down      stop everything it started and remove its data
#
# Fault injection (used by scripts/chaos.sh):
#   scripts/cluster.sh kill NODE        SIGKILL one node (web1, web2, worker1, worker2 at the default size)
#   scripts/cluster.sh start NODE       start a node again (and wait until it is ready)
#   scripts/cluster.sh restart rabbitmq|postgres
#
# Settings: RETOUR_CLUSTER_DIR (default /tmp/retour-cluster) holds the data, logs and PIDs. RETOUR_CLUSTER_WEB_NODES and
# RETOUR_CLUSTER_WORKER_NODES (2 each, 1-8) size the cluster when it is set up (the bench's scaled scenario compares one
# web node with two). Any RETOUR_* variable set by the caller reaches every node (say RETOUR_RATE_LIMIT=0);
# RETOUR_DEMO_API_KEY fixes the demo merchant's key.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
source "$here/scripts/lib.sh"

DIR="${RETOUR_CLUSTER_DIR:-/tmp/retour-cluster}"
DLL="$here/src/Retour/bin/Release/net10.0/retour.dll"

nodes() { # nodes WEB WORKERS : sets NODES to web1…webN worker1…workerM
  local web=$1 workers=$2 i
  NODES=()
  for i in $(seq 1 "$web"); do NODES+=("web$i"); done
  for i in $(seq 1 "$workers"); do NODES+=("worker$i"); done
}
size_ok() { [[ "$1" =~ ^[1-8]$ ]] && [[ "$2" =~ ^[1-8]$ ]]; }
# The size asked for (checked by `up`); a cluster already set up keeps the size it was set up with (its cluster.env).
if size_ok "${RETOUR_CLUSTER_WEB_NODES:-2}" "${RETOUR_CLUSTER_WORKER_NODES:-2}"; then
  nodes "${RETOUR_CLUSTER_WEB_NODES:-2}" "${RETOUR_CLUSTER_WORKER_NODES:-2}"
else
  nodes 2 2
fi
state() { [ -f "$DIR/cluster.env" ] && source "$DIR/cluster.env" && nodes "${WEB_NODES:-2}" "${WORKER_NODES:-2}"; }

role_of() {
  local n
  for n in "${NODES[@]}"; do
    [ "$n" = "$1" ] && { case "$1" in web*) echo web ;; *) echo worker ;; esac; return 0; }
  done
  echo "unknown node '$1' (this cluster has ${NODES[*]})" >&2
  return 1
}

node_env() { # node_env NODE : sets NODE_ENV to the environment of one node
  local node=$1
  NODE_ENV=(
    RETOUR_ROLE="$(role_of "$node")"
    RETOUR_URLS="http://127.0.0.1:$(port_of "$node")"
    RETOUR_PUBLIC_URL="$LB_URL"
    RETOUR_DB_PROVIDER=postgres
    RETOUR_DB="$DB_URL"
    RETOUR_RABBITMQ_URL="$RMQ_URL"
    RETOUR_DATA_DIR="$DIR/data"
    RETOUR_MIGRATE_ON_START=false
    RETOUR_SEED_DEMO=false
    RETOUR_LOG_FORMAT="${RETOUR_LOG_FORMAT:-json}"
    RETOUR_WEBHOOK_ALLOW_LOCAL="${RETOUR_WEBHOOK_ALLOW_LOCAL:-true}"
    RETOUR_SHUTDOWN_DELAY_MS="${RETOUR_SHUTDOWN_DELAY_MS:-2000}"
  )
}

port_of() { local v="PORT_${1^^}"; echo "${!v}"; }

start_node() {
  local node=$1
  node_env "$node"
  # A simple command in the background: its PID is dotnet's own (env and nohup exec it), so kill reaches the node.
  env "${NODE_ENV[@]}" nohup dotnet "$DLL" "$(role_of "$node")" >>"$DIR/logs/$node.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$node"
}

wait_ready() { # wait_ready URL [seconds]
  local url=$1 seconds=${2:-60}
  for _ in $(seq 1 $((seconds * 4))); do
    curl -fsS -m 2 -o /dev/null "$url/health/ready" 2>/dev/null && return 0
    sleep 0.25
  done
  return 1
}

alive() { [ -f "$DIR/pids/$1" ] && kill -0 "$(cat "$DIR/pids/$1")" 2>/dev/null; }

nginx_conf() {
  mkdir -p "$DIR/nginx/tmp" "$DIR/nginx/logs"
  chmod 777 "$DIR/nginx/tmp"
  cat >"$DIR/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log $DIR/nginx/logs/access.log combined buffer=64k flush=1s;
  client_body_temp_path $DIR/nginx/tmp/body;
  proxy_temp_path $DIR/nginx/tmp/proxy;
  fastcgi_temp_path $DIR/nginx/tmp/fastcgi;
  uwsgi_temp_path $DIR/nginx/tmp/uwsgi;
  scgi_temp_path $DIR/nginx/tmp/scgi;
  client_max_body_size 64m;
  # Bodies up to 1 MB (a batch of 500 tracking events is about 70 KB) stay in memory instead of a temporary file each.
  client_body_buffer_size 1m;
  upstream retour_web {
    # A node that refuses connections is skipped for 5 s; requests not yet sent to it go to another one.
$(for n in "${NODES[@]}"; do if [[ $n == web* ]]; then echo "    server 127.0.0.1:$(port_of "$n") max_fails=1 fail_timeout=5s;"; fi; done)
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$LB_PORT;
    location / {
      proxy_pass http://retour_web;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      # Never resent once a POST reached a node (non_idempotent is off): a lost answer is the client's to retry, with
      # its Idempotency-Key. Retour's own 503 (its database restarting) goes to the client with Retry-After: it is
      # not the node's failure, and counting it as one would take every node out at once.
      proxy_next_upstream error timeout http_502;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
    }
  }
}
EOF
}

cmd_up() {
  if [ -f "$DIR/cluster.env" ]; then
    state
    log "A cluster is already set up in $DIR (scripts/cluster.sh down removes it)"
    echo "$LB_URL"
    return 0
  fi
  command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (https://dot.net)." >&2; exit 1; }
  size_ok "${RETOUR_CLUSTER_WEB_NODES:-2}" "${RETOUR_CLUSTER_WORKER_NODES:-2}" || {
    echo "RETOUR_CLUSTER_WEB_NODES and RETOUR_CLUSTER_WORKER_NODES are 1 to 8 (got '${RETOUR_CLUSTER_WEB_NODES:-}' and '${RETOUR_CLUSTER_WORKER_NODES:-}')" >&2
    exit 2
  }
  # A failed start leaves nothing running behind a cluster.env that would look ready next time.
  trap 'log "Start failed; stopping what was started"; cmd_down >/dev/null 2>&1 || true' EXIT
  apt_install postgresql rabbitmq-server nginx curl fonts-noto-core fonts-nanum fonts-dejavu-core
  need_npm
  mkdir -p "$DIR/logs" "$DIR/pids" "$DIR/data"
  log "Building Retour"
  dotnet build "$here/src/Retour" -c Release -v quiet -nologo >"$DIR/logs/build.log" 2>&1 || { tail -n 30 "$DIR/logs/build.log" >&2; exit 1; }

  log "Starting PostgreSQL"
  PG_DURABLE=1 pg_start "$DIR/pg"
  "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE retour" >/dev/null
  log "Starting RabbitMQ"
  rmq_start "$DIR/rmq"

  LB_PORT=$(free_port)
  {
    echo "PG_PORT=$PG_PORT"
    echo "DB_URL='Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=retour;Maximum Pool Size=50'"
    echo "RMQ_URL=$RMQ_URL"
    echo "LB_PORT=$LB_PORT"
    echo "LB_URL=http://127.0.0.1:$LB_PORT"
    echo "WEB_NODES=${RETOUR_CLUSTER_WEB_NODES:-2}"
    echo "WORKER_NODES=${RETOUR_CLUSTER_WORKER_NODES:-2}"
    for n in "${NODES[@]}"; do echo "PORT_${n^^}=$(free_port)"; done
  } >"$DIR/cluster.env"
  state

  log "Migrating the schema and seeding the demo merchant"
  node_env web1
  env "${NODE_ENV[@]}" RETOUR_LOG_FORMAT=text dotnet "$DLL" demo seed >"$DIR/logs/seed.log" 2>&1 || { cat "$DIR/logs/seed.log" >&2; exit 1; }
  grep -o 'rtr_[a-z0-9]*' "$DIR/logs/seed.log" | head -n 1 >"$DIR/demo-key"

  for n in "${NODES[@]}"; do
    log "Starting $n ($(role_of "$n"), port $(port_of "$n"))"
    start_node "$n"
  done
  for n in "${NODES[@]}"; do
    wait_ready "http://127.0.0.1:$(port_of "$n")" 90 || { log "$n is not ready; its log:"; tail -n 30 "$DIR/logs/$n.log" >&2; exit 1; }
  done

  log "Starting nginx on port $LB_PORT"
  nginx_conf
  nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -g 'daemon on;' 2>"$DIR/logs/nginx.log" || { cat "$DIR/logs/nginx.log" >&2; exit 1; }
  wait_ready "$LB_URL" 30 || { log "the load balancer does not answer"; exit 1; }
  trap - EXIT
  log "Cluster ready: $WEB_NODES web node(s) behind $LB_URL, $WORKER_NODES worker(s); demo API key in $DIR/demo-key; logs in $DIR/logs"
  echo "$LB_URL"
}

cmd_status() {
  [ -f "$DIR/cluster.env" ] || { echo "No cluster in $DIR (scripts/cluster.sh up starts one)."; return 1; }
  state
  printf '%-10s %-8s %-7s %s\n' PART PID PORT READY
  for n in "${NODES[@]}"; do
    local pid="-" ready
    alive "$n" && pid=$(cat "$DIR/pids/$n")
    ready=$(curl -sS -m 3 "http://127.0.0.1:$(port_of "$n")/health/ready" 2>/dev/null | sed -E 's/.*"status":"([a-z]+)".*"role".*/\1/' || true)
    printf '%-10s %-8s %-7s %s\n' "$n" "$pid" "$(port_of "$n")" "${ready:-down}"
  done
  printf '%-10s %-8s %-7s %s\n' nginx "$(cat "$DIR/nginx/nginx.pid" 2>/dev/null || echo -)" "$LB_PORT" \
    "$(curl -s -o /dev/null -w '%{http_code}' -m 3 "$LB_URL/health/ready" 2>/dev/null || echo down)"
  printf '%-10s %-8s %-7s %s\n' postgres "$(head -n 1 "$DIR/pg/data/postmaster.pid" 2>/dev/null || echo -)" "$PG_PORT" \
    "$("$(pg_bin)/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q && echo up || echo down)"
  printf '%-10s %-8s %-7s %s\n' rabbitmq "$(cat "$DIR/rmq/rabbit.pid" 2>/dev/null || echo -)" "$(cat "$DIR/rmq/port")" \
    "$(rmq_run "$DIR/rmq" /usr/lib/rabbitmq/bin/rabbitmqctl -n "$(cat "$DIR/rmq/node")" -q status >/dev/null 2>&1 && echo up || echo down)"
  echo
  echo "Queues (messages ready, unacknowledged, consumers):"
  rmq_run "$DIR/rmq" /usr/lib/rabbitmq/bin/rabbitmqctl -n "$(cat "$DIR/rmq/node")" -q list_queues name messages_ready messages_unacknowledged consumers 2>/dev/null | sed 's/^/  /' || echo "  (RabbitMQ is down)"
  echo "Outbox: $("$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d retour -tAc \
    "SELECT count(*) FILTER (WHERE processed_at IS NULL AND dead_at IS NULL) || ' pending, ' || count(*) FILTER (WHERE dead_at IS NOT NULL) || ' dead' FROM outbox_messages" 2>/dev/null || echo 'database down')"
  echo "Load balancer: $LB_URL"
}

cmd_down() {
  [ -d "$DIR" ] || { log "No cluster in $DIR"; return 0; }
  state || true
  [ -f "$DIR/nginx/nginx.pid" ] && nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -s stop 2>/dev/null || true
  for n in "${NODES[@]}"; do
    if alive "$n"; then kill "$(cat "$DIR/pids/$n")" 2>/dev/null || true; fi
  done
  for n in "${NODES[@]}"; do
    for _ in $(seq 1 40); do alive "$n" || break; sleep 0.25; done
    alive "$n" && kill -9 "$(cat "$DIR/pids/$n")" 2>/dev/null || true
  done
  rmq_stop "$DIR/rmq"
  pg_stop "$DIR/pg"
  rm -rf "$DIR"
  log "Cluster stopped and removed"
}

cmd_kill() {
  state
  local node=${1:?name a node: ${NODES[*]}}
  role_of "$node" >/dev/null
  alive "$node" || { log "$node is not running"; return 0; }
  kill -9 "$(cat "$DIR/pids/$node")"
  log "Killed $node (SIGKILL)"
}

cmd_start() {
  state
  local node=${1:?name a node: ${NODES[*]}}
  role_of "$node" >/dev/null
  alive "$node" && { log "$node is running already"; return 0; }
  start_node "$node"
  wait_ready "http://127.0.0.1:$(port_of "$node")" 90 || { log "$node is not ready"; tail -n 30 "$DIR/logs/$node.log" >&2; return 1; }
  log "Started $node"
}

cmd_restart() {
  state
  case "${1:-}" in
    rabbitmq)
      local t0=$SECONDS
      rmq_stop "$DIR/rmq" keep
      log "RabbitMQ stopped ($((SECONDS - t0)) s)"
      rmq_start "$DIR/rmq" >/dev/null
      log "Restarted RabbitMQ ($((SECONDS - t0)) s)" ;;
    postgres)
      local run=()
      [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
      "${run[@]}" "$(pg_bin)/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/server.log" -m fast -w -t 60 restart >/dev/null
      log "Restarted PostgreSQL" ;;
    *) echo "usage: scripts/cluster.sh restart rabbitmq|postgres" >&2; return 2 ;;
  esac
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kill) cmd_kill "${2:-}" ;;
  start) cmd_start "${2:-}" ;;
  restart) cmd_restart "${2:-}" ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
