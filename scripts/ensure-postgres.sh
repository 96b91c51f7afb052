#!/usr/bin/env bash
# Prints the URL of a PostgreSQL server that answers, on stdout; everything else goes to stderr.
#
#   TEST_PG_URL=$(scripts/ensure-postgres.sh) npm run test:pg
#   scripts/ensure-postgres.sh stop DIR      # stop a throwaway cluster this script started, and delete DIR
#   scripts/ensure-postgres.sh ctl DIR restart -m immediate   # pg_ctl on such a cluster (stop|start|restart …),
#                                                             # as its owner, with its options and log file
#
# Tried in order: $TEST_PG_URL, $DATABASE_URL (when it is a postgres:// URL), then
# postgres://postgres@127.0.0.1:5432/test. When none answers, or BATCHGATE_PG_THROWAWAY=1, it starts a throwaway
# cluster (trust auth, fsync off) on a free port from 25432 in BATCHGATE_PG_DIR (default: a new temp dir),
# installing Debian's postgresql package first when no initdb is found. That cluster keeps running after this
# script exits: the caller stops it with `stop DIR` (.ci/run does so in its exit trap).
set -euo pipefail

DEFAULT_URL=postgres://postgres@127.0.0.1:5432/test
MARKER=.batchgate-throwaway-pg
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { echo "ensure-postgres: $*" >&2; }
# The URL for logs, password masked.
shown() { sed -E 's#^([a-z]+://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

# initdb refuses to run as root, so as root the cluster is run by the postgres user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "cd / && $*"
  else
    bash -c "$*"
  fi
}

# Answers with a query, so auth and the database name are checked too, not only the port.
answers() {
  local url=$1
  if command -v psql >/dev/null; then
    PGCONNECT_TIMEOUT=3 psql "$url" -Atqc 'select 1' >/dev/null 2>&1
  elif (cd "$ROOT" && node -e 'require.resolve("pg")' 2>/dev/null); then
    (cd "$ROOT" && node -e '
      const c = new (require("pg").Client)({ connectionString: process.argv[1], connectionTimeoutMillis: 3000 });
      c.connect().then(() => c.query("select 1")).then(() => c.end()).then(() => process.exit(0), () => process.exit(1));
    ' "$url")
  elif command -v pg_isready >/dev/null; then
    pg_isready -q -t 3 -d "$url"
  else
    return 1
  fi
}

pg_bindir() {
  local initdb
  initdb=$(command -v initdb || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$initdb" ] && dirname "$(readlink -f "$initdb")"
}

install_postgres() {
  log "no initdb found: installing Debian's postgresql package"
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo -n)
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_cluster() {
  local dir=$1
  if [ ! -e "$dir/$MARKER" ]; then
    # A directory the caller made for a cluster that was never needed.
    [ ! -e "$dir" ] || rmdir "$dir" 2>/dev/null || { log "$dir is not a throwaway cluster of this script; leaving it alone"; return 1; }
    return 0
  fi
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "'$(cat "$dir/bindir")/pg_ctl' -D '$dir/data' -m fast -w stop" >&2 || log "pg_ctl stop failed (see $dir/server.log)"
  fi
  rm -rf "$dir"
}

start_throwaway() {
  local bindir dir port
  bindir=$(pg_bindir) || { install_postgres; bindir=$(pg_bindir) || { log "initdb still not found after installing postgresql"; exit 1; }; }
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    log "running as root, but there is no postgres user to run initdb as"
    exit 1
  fi
  # Below Linux's ephemeral range (32768-60999): a port in it can be taken by any outgoing connection's local
  # end, and then the bind fails (seen at 55434 while tests ran), at the first start or at a restart.
  port=${BATCHGATE_PG_PORT:-25432}
  while port_in_use "$port"; do
    port=$((port + 1))
    [ "$port" -lt 65535 ] || { log "no free port"; exit 1; }
  done
  dir=${BATCHGATE_PG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/batchgate-pg.XXXXXX")}
  mkdir -p "$dir"
  # `stop` deletes the directory, so it must be one made for this cluster.
  [ -z "$(ls -A "$dir")" ] || { log "BATCHGATE_PG_DIR=$dir is not empty"; exit 1; }
  touch "$dir/$MARKER"
  echo "$bindir" >"$dir/bindir"
  # `pg_ctl start` after a stop needs the server options again (only `restart` reads postmaster.opts).
  echo "-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >"$dir/options"
  [ "$(id -u)" != 0 ] || chown -R postgres "$dir"
  log "starting a throwaway cluster ($bindir) in $dir on port $port"
  # On failure after initdb, stop what may be running: nothing is left behind for the caller to find.
  trap 'stop_cluster "$dir" || true' ERR
  # -l: the server must not inherit our stdout, or `$(ensure-postgres.sh)` would wait for it forever.
  as_owner "'$bindir/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 --locale=C --no-sync >/dev/null && \
    '$bindir/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 30 \
      -o \"$(cat "$dir/options")\" start >/dev/null" >&2 || { log "could not start it; server log:"; tail -n 20 "$dir/server.log" >&2 || true; false; }
  local url="postgres://postgres@127.0.0.1:$port/postgres"
  answers "$url" || { log "the throwaway cluster does not answer at $url"; false; }
  trap - ERR
  log "throwaway cluster ready; stop it with: $0 stop $dir"
  echo "$url"
}

# The fault tests stop, start and crash (-m immediate) their own cluster; never one this script did not start.
ctl_cluster() {
  local dir=$1
  shift
  [ -e "$dir/$MARKER" ] || { log "$dir is not a throwaway cluster of this script"; return 1; }
  local args=""
  for a in "$@"; do args+=" '$a'"; done
  # -l: as at the first start, the server must not inherit the caller's stdout.
  as_owner "'$(cat "$dir/bindir")/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 30 -o \"$(cat "$dir/options")\" $args >/dev/null" >&2
}

main() {
  if [ "${1:-}" = ctl ]; then
    [ -n "${2:-}" ] && [ -n "${3:-}" ] || { log "usage: $0 ctl DIR stop|start|restart [pg_ctl options]"; exit 2; }
    ctl_cluster "${@:2}"
    return
  fi
  if [ "${1:-}" = stop ]; then
    [ -n "${2:-}" ] || { log "usage: $0 stop DIR"; exit 2; }
    stop_cluster "$2"
    return
  fi
  if [ "${BATCHGATE_PG_THROWAWAY:-}" != 1 ]; then
    local candidates=()
    [ -n "${TEST_PG_URL:-}" ] && candidates+=("$TEST_PG_URL")
    [[ "${DATABASE_URL:-}" =~ ^postgres(ql)?:// ]] && candidates+=("$DATABASE_URL")
    candidates+=("$DEFAULT_URL")
    local url
    for url in "${candidates[@]}"; do
      if answers "$url"; then
        log "using the server at $(shown "$url")"
        echo "$url"
        return
      fi
      log "no answer from $(shown "$url")"
    done
  fi
  start_throwaway
}

main "$@"
