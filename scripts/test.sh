#!/usr/bin/env bash
# The whole test suite, from a fresh machine: restores, builds, runs every test, and ends with
# one line "tests: N passed, M failed[, K skipped]". Exit code 0 only when nothing failed.
#
# First it starts the official Bluesky AppView network of ../shared/realappview (first install about
# 2-5 minutes, later starts about 20-30 s) for the RealAppView tests, and stops it afterwards. A network
# that cannot start never fails the suite: those tests are then reported as skipped.
# POSTSERVICE_SKIP_REALAPPVIEW=1 leaves the network alone (the tests skip unless it is already up).
#
# It also starts a throwaway PostgreSQL of its own (scripts/postgres.sh: loopback, own port, temp folder)
# for the tests that run on PostgreSQL, and stops it afterwards; if it cannot start, those tests are
# reported as skipped. POSTSERVICE_SKIP_POSTGRES=1 does not start it (they skip unless
# POSTSERVICE_TEST_POSTGRES is already set).
set -uo pipefail
cd "$(dirname "$0")/.."

rav_scripts=../shared/realappview
rav_dir=${RAV_DIR:-/tmp/realappview-rt}
export RAV_OUT=${RAV_OUT:-$rav_dir/network.json} # start.sh writes it, the tests read it
rav_marker=$rav_dir/started-by-test-sh           # the pid of a network this script started
rav_using=0
command -v flock >/dev/null || flock() { return 0; }

rav_running() {
  [ -s "$RAV_OUT" ] && [ -f "$rav_dir/network.pid" ] && kill -0 "$(cat "$rav_dir/network.pid")" 2>/dev/null
}

# Other worktrees on this machine share the network (fixed ports, one $rav_dir). Lock 8 serialises
# starting and stopping; every run using the network holds lock 9 shared, so only the last one stops it.
# Children get neither descriptor: a long-lived one (the network, a dotnet build server) would hold the lock.
start_realappview() {
  if [ "${POSTSERVICE_SKIP_REALAPPVIEW:-}" = 1 ]; then
    echo "real AppView: not started (POSTSERVICE_SKIP_REALAPPVIEW=1)"
    return
  fi
  mkdir -p "$rav_dir" && exec 8>"$rav_dir.lock" 9>"$rav_dir.users" || return
  if ! flock -w 900 8; then
    echo "real AppView: another run held the start lock for 15 minutes; not started, its tests are skipped"
    return
  fi
  if rav_running; then
    echo "real AppView: already running ($RAV_OUT), used as it is"
  else
    local log started=$SECONDS
    log=$(mktemp -t realappview-start.XXXXXX)
    echo "real AppView: starting ../shared/realappview/start.sh (a first install takes about 2-5 minutes)"
    if timeout 600 bash "$rav_scripts/start.sh" </dev/null >"$log" 2>&1 8>&- 9>&- && rav_running; then
      cp "$rav_dir/network.pid" "$rav_marker"
      echo "real AppView: up in $((SECONDS - started)) s"
      rm -f "$log"
    else
      echo "real AppView: could not start within $((SECONDS - started)) s; its tests will be skipped. Log: $log"
      tail -n 15 "$log" | sed 's/^/  | /'
      bash "$rav_scripts/stop.sh" >>"$log" 2>&1 8>&- 9>&- # whatever the failed start left running
    fi
  fi
  flock -s 9
  rav_using=1
  flock -u 8
}

stop_realappview() {
  [ "$rav_using" = 1 ] || return 0
  rav_using=0
  flock -w 900 8
  # Exclusive only when no other run is still using it; a network started by hand is never stopped here.
  if flock -xn 9 && [ -f "$rav_marker" ] && [ "$(cat "$rav_marker")" = "$(cat "$rav_dir/network.pid" 2>/dev/null)" ]; then
    bash "$rav_scripts/stop.sh" >/dev/null 2>&1 8>&- 9>&-
    rm -f "$rav_marker"
    echo "real AppView: stopped"
  fi
  flock -u 9
  flock -u 8
}
# This run's own PostgreSQL: a folder and port no other run uses, so parallel runs never meet.
pg_dir=""
start_postgres() {
  if [ "${POSTSERVICE_SKIP_POSTGRES:-}" = 1 ]; then
    echo "PostgreSQL: not started (POSTSERVICE_SKIP_POSTGRES=1)"
    return
  fi
  pg_dir=$(mktemp -d -t postservice-pg.XXXXXX) || return
  PGRT_DIR=$pg_dir bash scripts/postgres.sh start 2>&1 >/dev/null 8>&- 9>&- # its status lines, not its export lines
  if [ -s "$pg_dir/connection" ]; then
    POSTSERVICE_TEST_POSTGRES=$(cat "$pg_dir/connection")
    export POSTSERVICE_TEST_POSTGRES
  fi
}

stop_postgres() {
  [ -n "$pg_dir" ] || return 0
  PGRT_DIR=$pg_dir bash scripts/postgres.sh stop 8>&- 9>&-
  pg_dir=""
}

trap 'stop_postgres; stop_realappview' EXIT

# The dashboard's browser test drives Chromium from the Debian package (Playwright's own download needs the
# internet). Install it when missing; if that fails the test is reported as skipped, never as passed.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
  echo "installing chromium for the browser test (apt-get)"
  if ! { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium; } >/dev/null 2>&1; then
    echo "chromium could not be installed: the browser test will be skipped"
  fi
fi

start_realappview
start_postgres

log=$(mktemp)
dotnet test PostService.sln --nologo -c Release 2>&1 8>&- 9>&- | tee "$log"
status=${PIPESTATUS[0]}

# The runner prints one "Failed: a, Passed: b, Skipped: c, Total: d" line per test assembly.
read -r failed passed skipped < <(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" |
  awk -F'[:,]' '{f+=$2; p+=$4; s+=$6} END {print f+0, p+0, s+0}')
rm -f "$log"

stop_postgres # both before the summary, which must stay the last line
stop_realappview

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the build or the runner itself failed: count it, never report green
fi
summary="tests: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
exit "$status"
