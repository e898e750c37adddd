# Shared by scripts/start and scripts/test: a local PostgreSQL cluster from the machine's own
# initdb/pg_ctl (Debian's `postgresql` package, installed when missing). PostgreSQL refuses to run as
# root, so under root the cluster belongs to the `postgres` user and every command runs as it.

# The directory holding initdb, pg_ctl and postgres.
postgres_bin_dir() {
    local dir=""
    if command -v initdb >/dev/null 2>&1; then
        dir=$(dirname "$(readlink -f "$(command -v initdb)")")
    else
        dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        if [ -z "$dir" ]; then
            apt_install postgresql
            dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
        fi
    fi
    echo "$dir"
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_cluster_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Makes every ancestor of a directory traversable by the postgres user (root only), so a cluster can
# live under the repository even when the checkout is in a private directory.
make_traversable() {
    [ "$(id -u)" -eq 0 ] || return 0
    local dir
    dir=$(readlink -f "$1")
    while [ "$dir" != "/" ]; do
        if ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
            chmod o+x "$dir"
        fi
        dir=$(dirname "$dir")
    done
}

# start_postgres DIR PORT: creates the cluster in DIR if needed and starts it on 127.0.0.1:PORT.
# Sets DATABASE_URL to a URL for the `dispatch` database.
start_postgres() {
    local dir=$1 port=$2 bin
    bin=$(postgres_bin_dir)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        chmod 700 "$dir"
        make_traversable "$(dirname "$dir")"
    fi
    if [ ! -f "$dir/PG_VERSION" ]; then
        echo "==> creating a PostgreSQL cluster in $dir" >&2
        as_cluster_owner "$bin/initdb" -D "$dir" -U dispatch --auth=trust -E UTF8 --no-instructions >/dev/null
    fi
    echo "==> starting PostgreSQL on 127.0.0.1:$port (data: $dir, log: $dir/server.log)" >&2
    as_cluster_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
    as_cluster_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U dispatch -d postgres -qtA \
        -c "SELECT 1 FROM pg_database WHERE datname = 'dispatch'" | grep -q 1 ||
        as_cluster_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U dispatch -d postgres -q -c "CREATE DATABASE dispatch" >/dev/null
    export DATABASE_URL="postgres://dispatch@127.0.0.1:$port/dispatch"
}

# stop_postgres DIR: stops the cluster cleanly (fast shutdown: no new connections, rollback open ones).
stop_postgres() {
    local dir=$1 bin
    bin=$(postgres_bin_dir)
    [ -f "$dir/postmaster.pid" ] || return 0
    echo "==> stopping PostgreSQL ($dir)" >&2
    as_cluster_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
}
