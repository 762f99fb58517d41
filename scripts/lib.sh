# Shared helpers for scripts/*.sh: install Debian packages when missing, run a throwaway PostgreSQL.
# shellcheck shell=bash

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "Need root (or sudo) to run: $*" >&2; return 1; fi
}

# apt_install PKG... : installs the packages that are not installed yet.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing ${missing[*]} from Debian"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# need_npm: the build vendors the console's Chart.js from npm (src/Retour/client, with its lockfile); Node.js and npm
# come from Debian when the machine has none.
need_npm() {
  command -v npm >/dev/null && return 0
  apt_install nodejs npm
}

free_port() {
  local p
  for _ in $(seq 1 50); do
    # Below the kernel's ephemeral range (32768+), so an outgoing connection cannot take it meanwhile.
    p=$(( (RANDOM % 12000) + 20000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  echo "No free port found" >&2; return 1
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# pg_start DIR : starts a throwaway cluster in DIR on 127.0.0.1 and a free port; sets PG_PORT and PG_URL.
# PostgreSQL refuses to run as root, so as root it runs as the 'postgres' user the Debian package creates.
pg_start() {
  local dir=$1 bin run=()
  apt_install postgresql
  bin=$(pg_bin)
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; run=(runuser -u postgres --); fi
  PG_PORT=$(free_port)
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  # A test server: durability off (fsync), so the suite does not wait for the disk. PG_DURABLE=1 keeps the defaults
  # (the local cluster and its fault test, where a restart must lose nothing committed).
  local speed="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PG_DURABLE:-}" = 1 ] && speed=""
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 $speed -c max_connections=500 ${PG_EXTRA_OPTS:-}" start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  PG_URL="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
  export PG_PORT PG_URL
}

pg_stop() {
  local dir=$1 run=()
  [ -d "$dir/data" ] || return 0
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

# A local SMTP sink (Debian's python3-aiosmtpd) that stores every message it receives in a Maildir under $1.
smtp_start() {
  local dir=$1
  apt_install python3-aiosmtpd
  mkdir -p "$dir/mail/tmp" "$dir/mail/new" "$dir/mail/cur"
  SMTP_PORT=$(free_port)
  # Debian's interpreter, where the package lives (a pyenv or venv python3 first on PATH would not have it).
  /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$dir/mail" >"$dir/smtp.log" 2>&1 &
  echo $! >"$dir/smtp.pid"
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && break
    sleep 0.2
  done
  (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null || { cat "$dir/smtp.log" >&2; return 1; }
  RETOUR_TEST_SMTP_PORT=$SMTP_PORT
  RETOUR_TEST_MAILDIR="$dir/mail"
  export RETOUR_TEST_SMTP_PORT RETOUR_TEST_MAILDIR
}

smtp_stop() {
  local dir=$1
  [ -f "$dir/smtp.pid" ] && kill "$(cat "$dir/smtp.pid")" 2>/dev/null || true
  rm -rf "$dir"
}

# rmq_start DIR : starts a throwaway RabbitMQ node (Debian's rabbitmq-server) with its own data in DIR, on 127.0.0.1 and a
# free port; sets RMQ_PORT, RMQ_URL and RMQ_NODE. No systemd is needed: the node runs in the background as the
# 'rabbitmq' user the package creates (as root) or as the caller, with its Erlang cookie in DIR.
rmq_env() {
  local dir=$1
  env HOME="$dir" RABBITMQ_NODENAME="$(cat "$dir/node")" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$(cat "$dir/port")" RABBITMQ_DIST_PORT="$(cat "$dir/dist_port")" \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/rabbit.pid" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" ERL_EPMD_ADDRESS=127.0.0.1 "${@:2}"
}

rmq_run() { # rmq_run DIR CMD... : runs a rabbitmq tool against the node in DIR (as its owner)
  local dir=$1 run=()
  [ "$(id -u)" -eq 0 ] && run=(runuser -u rabbitmq --)
  "${run[@]}" bash -c "$(declare -f rmq_env); rmq_env \"\$@\"" _ "$dir" "${@:2}"
}

rmq_start() {
  local dir=$1
  apt_install rabbitmq-server
  mkdir -p "$dir/mnesia" "$dir/log"
  if [ ! -f "$dir/port" ]; then
    RMQ_PORT=$(free_port)
    echo "$RMQ_PORT" >"$dir/port"
    free_port >"$dir/dist_port" # Erlang distribution (the CLI tools talk to the node through it)
    echo "retour$RMQ_PORT@localhost" >"$dir/node"
    # Queues and messages on disk as in production; no management plugin (the scripts read counts through the API).
    printf 'listeners.tcp.default = %s\nloopback_users = none\ndisk_free_limit.absolute = 50MB\nvm_memory_high_watermark.relative = 0.2\n' \
      "$RMQ_PORT" >"$dir/rabbitmq.conf"
    echo '[].' >"$dir/enabled_plugins"
    echo '[].' >"$dir/advanced.config"
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/.erlang.cookie"
    chmod 400 "$dir/.erlang.cookie"
    [ "$(id -u)" -eq 0 ] && chown -R rabbitmq:rabbitmq "$dir"
  fi
  RMQ_PORT=$(cat "$dir/port")
  RMQ_NODE=$(cat "$dir/node")
  rmq_run "$dir" /usr/lib/rabbitmq/bin/rabbitmq-server >"$dir/log/console.log" 2>&1 &
  echo $! >"$dir/launcher.pid"
  # The node opens its AMQP port at the end of its boot: poll that (cheap), then ask the node once. Each rabbitmqctl
  # call starts an Erlang VM of its own, which on a busy machine slows the very boot it waits for.
  for _ in $(seq 1 240); do
    (exec 3<>"/dev/tcp/127.0.0.1/$RMQ_PORT") 2>/dev/null && break
    sleep 0.5
  done
  rmq_run "$dir" /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RMQ_NODE" -q await_startup -t 60 >/dev/null 2>&1 \
    || { tail -n 40 "$dir/log/console.log" >&2; return 1; }
  RMQ_URL="amqp://guest:guest@127.0.0.1:$RMQ_PORT/"
  export RMQ_PORT RMQ_URL RMQ_NODE
}

# rmq_stop DIR [keep] : stops the node gracefully (SIGTERM: RabbitMQ closes its listeners and connections and flushes its
# message stores) for up to RMQ_STOP_SECONDS, 30 by default, then SIGKILL; removes DIR unless asked to keep it (a restart
# keeps its queues and messages). The signal goes straight to the node: `rabbitmqctl stop` first boots an Erlang VM of its
# own, which on a busy machine took most of the 30-60 s a stop used to take.
rmq_stop() {
  local dir=$1 pid
  [ -f "$dir/node" ] || return 0
  pid=$(cat "$dir/rabbit.pid" 2>/dev/null || true)
  # Only this node: a PID file left by a node that died may name another process by now. The node runs with HOME=DIR.
  if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "-home $dir "; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((${RMQ_STOP_SECONDS:-30} * 4))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  elif [ -z "$pid" ]; then
    # No PID yet (the node never finished starting): ask it through the CLI.
    rmq_run "$dir" timeout "${RMQ_STOP_SECONDS:-30}" /usr/lib/rabbitmq/bin/rabbitmqctl -n "$(cat "$dir/node")" -q stop >/dev/null 2>&1 || true
  fi
  rm -f "$dir/rabbit.pid"
  [ "${2:-}" = keep ] || rm -rf "$dir"
}
