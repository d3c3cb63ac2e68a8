#!/usr/bin/env bash
# Print a PostgreSQL URL for the test suite, starting (or installing) a server if needed.
set -euo pipefail
if [ -n "${FANQA_TEST_POSTGRES_URL:-}" ]; then echo "$FANQA_TEST_POSTGRES_URL"; exit 0; fi
url="postgresql+psycopg://postgres@127.0.0.1:5432/test"
ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! command -v pg_isready >/dev/null 2>&1 || ! ready; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "installing PostgreSQL from Debian's packages..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  conf=/etc/postgresql/$version/main
  grep -q "^host all all 127.0.0.1/32 trust" "$conf/pg_hba.conf" ||
    sed -i '1i host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 30); do ready && break; sleep 1; done
  su postgres -c "psql -tc \"select 1 from pg_database where datname='test'\" | grep -q 1 || createdb test" >&2
fi
echo "$url"
