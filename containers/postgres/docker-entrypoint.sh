#!/bin/sh
# The public postgres image's contract, in brief: as root, own PGDATA and drop to postgres; on an
# empty PGDATA, initdb with POSTGRES_USER/POSTGRES_PASSWORD and create POSTGRES_DB; then exec CMD.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
if [ "${1:-}" != postgres ]; then
    exec "$@"
fi
if [ "$(id -u)" = 0 ]; then
    # A tmpfs or volume mounted over PGDATA is root's and 1777: initdb wants it 0700 and its own.
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "docker-entrypoint.sh: POSTGRES_PASSWORD is not set; set it (the server accepts password logins only over TCP)" >&2
        exit 1
    fi
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    if [ "$db" != postgres ]; then
        # On the socket only, so that nothing connects over TCP (or a health check passes) before the end.
        pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --silent start
        # psql interpolates :"db" (quoted as an identifier) in what it reads, not in --command.
        echo 'CREATE DATABASE :"db";' | psql --username="$user" --dbname=postgres --no-psqlrc --quiet \
            --set=ON_ERROR_STOP=1 --set=db="$db"
        pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
    fi
fi
exec "$@"
