#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on loopback, with its data in a fresh folder under /tmp.
#
#   PGRT_DIR=<new or empty dir> bash scripts/postgres.sh start   # stdout: export lines for eval
#   PGRT_DIR=<same dir> bash scripts/postgres.sh stop            # stops that server, deletes the folder
#
# Without PGRT_DIR, start makes one (mktemp) and prints it among the export lines. Each start gets its own
# folder and port, so parallel runs (other worktrees) never share or stop each other's server. The connection
# string is written to $PGRT_DIR/connection as well. When the server binaries are missing and cannot be
# installed, start says so and exits 0 without starting anything (no connection file): the tests then skip.
# Server binaries refuse to run as root, so as root the server runs as the system user postservice-pg.
set -uo pipefail

pg_user=postservice-pg
first_port=55432

say() { echo "PostgreSQL: $*" >&2; }

as_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the server's user (the current one when that is not root).
as_server_user() {
  if as_root; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}

newest_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

install_server() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""
  if ! as_root; then
    command -v sudo >/dev/null 2>&1 || return 1
    sudo="sudo -n"
  fi
  say "installing the server binaries (apt-get install postgresql)"
  local apt=($sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300)
  { "${apt[@]}" install -y postgresql || { "${apt[@]}" update && "${apt[@]}" install -y postgresql; }; } >/dev/null 2>&1
}

ensure_server_user() {
  as_root || return 0
  id -u "$pg_user" >/dev/null 2>&1 && return 0
  # A parallel run may create it at the same moment; it then exists either way.
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$pg_user" >/dev/null 2>&1
  id -u "$pg_user" >/dev/null 2>&1
}

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local bindir
  if ! bindir=$(newest_bindir); then
    # Serialise installs of parallel runs; apt's own lock timeout covers other apt users.
    { flock -w 600 7; bindir=$(newest_bindir) || { install_server && bindir=$(newest_bindir); }; } 7>"/tmp/postservice-pg-install.$(id -u).lock"
    if [ -z "$bindir" ]; then
      say "server binaries are missing and could not be installed; the PostgreSQL tests will be skipped"
      return 0
    fi
  fi
  if ! ensure_server_user; then
    say "could not create the system user $pg_user; the PostgreSQL tests will be skipped"
    return 0
  fi

  local dir=${PGRT_DIR:-}
  if [ -z "$dir" ]; then
    dir=$(mktemp -d -t postservice-pg.XXXXXX) || return 1
  elif [ -e "$dir/data" ]; then
    say "$dir already holds a server; stop it first"
    return 1
  else
    mkdir -p "$dir" || return 1
  fi
  dir=$(cd "$dir" && pwd)
  as_root && chown "$pg_user:" "$dir"
  echo "$bindir" >"$dir/bindir"

  if ! as_server_user "$bindir/initdb" -D "$dir/data" -A trust -U postgres --locale=C -E UTF8 >"$dir/initdb.log" 2>&1; then
    say "initdb failed (log: $dir/initdb.log); the PostgreSQL tests will be skipped"
    return 0
  fi

  # Another run can take a port between the check and the bind: then the next port is tried.
  local port
  for ((port = first_port; port < first_port + 100; port++)); do
    port_is_free "$port" || continue
    rm -f "$dir/server.log"
    if as_server_user "$bindir/pg_ctl" start -D "$dir/data" -w -t 120 -l "$dir/server.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=200" >/dev/null 2>&1; then
      local connection="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50"
      echo "$connection" >"$dir/connection"
      say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') up on 127.0.0.1:$port, data in $dir"
      echo "export PGRT_DIR='$dir'"
      echo "export POSTSERVICE_TEST_POSTGRES='$connection'"
      return 0
    fi
    grep -q "could not bind\|could not create lock file\|already in use" "$dir/server.log" 2>/dev/null || break
  done
  say "the server did not start (log: $dir/server.log); the PostgreSQL tests will be skipped"
  tail -n 5 "$dir/server.log" 2>/dev/null | sed 's/^/  | /' >&2
  return 0
}

stop() {
  local dir=${PGRT_DIR:-}
  if [ -z "$dir" ]; then
    say "stop: PGRT_DIR is not set"
    return 2
  fi
  if [ ! -f "$dir/bindir" ]; then # start made nothing there (no binaries): nothing to stop
    rmdir "$dir" 2>/dev/null
    return 0
  fi
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server_user "$(cat "$dir/bindir")/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >/dev/null 2>&1 ||
      kill -KILL "$(head -n 1 "$dir/data/postmaster.pid")" 2>/dev/null
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: PGRT_DIR=<dir> $0 start|stop" >&2
    exit 2
    ;;
esac
