#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run it.
# Installs: the project, its dev tools and the embedded broker into .venv, at the versions locked
# in requirements/constraints.txt (scripts/lock.sh); Debian's chromium for the dashboard test.
# Starts: nothing by hand; the embedded Kafka broker is started by the tests themselves.
# PostgreSQL on 127.0.0.1:5432 is used when it answers (the project's machines run one).
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium drives the dashboard test; the font draws the Chinese station names in its screenshot
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi"; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
fi

if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 && command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    export CORRIDOR_TEST_POSTGRES_URL="${CORRIDOR_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
  fi
fi

# The README's install made .venv from the same lock already (CI's walk-through): then only the
# dev tools are new here, and nothing already installed is resolved again or replaced.
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q -c requirements/constraints.txt -e '.[dev,broker]'
# Two test processes (pytest-xdist), each module whole on one of them so its module-scoped
# fixtures are built once: about twice as fast on a 2-core machine shared with other jobs
# (docs/performance.md). CORRIDOR_TEST_PROCESSES=0 runs the suite in this one process.
workers="${CORRIDOR_TEST_PROCESSES:-2}"
parallel=()
if [ "$workers" != 0 ] && .venv/bin/python -c 'import xdist' 2>/dev/null; then
  parallel=(-n "$workers" --dist loadfile)
fi
# --durations: CI's log names the slowest tests every run (where the next speed-up is)
exec .venv/bin/python -m pytest "${parallel[@]}" --durations=25 "$@"
