#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 (trust auth for local tests):
# starts the machine's cluster if it is stopped, installs one if there is none.
set -euo pipefail
host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }
ready && exit 0
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql)" ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  echo "starting PostgreSQL $version …"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
else
  echo "installing PostgreSQL …"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q postgresql >/dev/null
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  conf=/etc/postgresql/$version/main
  sed -i 's/^\(host\|local\).*/# &/' "$conf/pg_hba.conf"
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' >> "$conf/pg_hba.conf"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
echo "PostgreSQL does not answer on $host:$port" >&2
exit 1
