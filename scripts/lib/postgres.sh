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

# make_postgres_certificates DIR: throwaway TLS material for tests: a CA (ca.crt), a server
# certificate for the name localhost (not its address) signed by it (server.crt, server.key, readable by the
# cluster's owner only), and an unrelated CA (other-ca.crt) that must not verify it.
make_postgres_certificates() {
    local dir=$1
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dispatch test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=unrelated CA" \
        -keyout "$dir/other-ca.key" -out "$dir/other-ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost\n' >"$dir/san.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -extfile "$dir/san.ext" -out "$dir/server.crt" 2>/dev/null
    chmod 755 "$dir"
    chmod 644 "$dir/ca.crt" "$dir/other-ca.crt" "$dir/server.crt"
    chmod 600 "$dir/server.key"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/server.key" "$dir/server.crt"; fi
}

# start_postgres DIR PORT: creates the cluster in DIR if needed and starts it on 127.0.0.1:PORT, with
# TLS when POSTGRES_TLS_DIR names certificates from make_postgres_certificates. POSTGRES_LISTEN (a
# comma-separated list, default 127.0.0.1) and POSTGRES_TRUST_NETWORK (a CIDR whose clients are trusted,
# like loopback's) open it to a test cluster's pods.
# Sets DATABASE_URL to a URL for the `dispatch` database.
start_postgres() {
    local dir=$1 port=$2 bin tls=""
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
    if [ -n "${POSTGRES_TRUST_NETWORK:-}" ] && ! grep -q "${POSTGRES_TRUST_NETWORK}" "$dir/pg_hba.conf"; then
        echo "host all all ${POSTGRES_TRUST_NETWORK} trust" | as_cluster_owner tee -a "$dir/pg_hba.conf" >/dev/null
    fi
    if [ -n "${POSTGRES_TLS_DIR:-}" ]; then
        tls="-c ssl=on -c ssl_cert_file=$POSTGRES_TLS_DIR/server.crt -c ssl_key_file=$POSTGRES_TLS_DIR/server.key"
    fi
    local listen=${POSTGRES_LISTEN:-127.0.0.1}
    echo "==> starting PostgreSQL on $listen:$port (data: $dir, log: $dir/server.log)" >&2
    as_cluster_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=$listen -c max_connections=100 $tls" start >/dev/null
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
