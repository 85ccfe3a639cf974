#!/usr/bin/env bash
# Set up .venv and run every test. PostgreSQL tests run when TEST_POSTGRES_URL is set or a
# local server answers on 127.0.0.1:5432 (database "test"); SQLite tests always run.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

if [ -z "${TEST_POSTGRES_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
    && pg_isready --quiet --host 127.0.0.1 --port 5432; then
    export TEST_POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
fi
echo "PostgreSQL tests: ${TEST_POSTGRES_URL:-skipped (no server)}"

# Several workers (pytest-xdist): every test has its own databases, mail servers and Slack
# emulator on free ports, and most of a test's time is waiting on them, so four workers keep
# two cores busy. Tests are handed out one at a time, slow ones first (tests/conftest.py), so
# those spread over the workers. TEST_WORKERS=0 runs everything in this process (a debugger).
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-4}" --dist load --maxschedchunk 1 "$@"
