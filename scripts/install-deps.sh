#!/bin/sh
# Install the Debian packages winnow needs to build and test, when missing.
# Usage: scripts/install-deps.sh [build|demo|test|python|lint]
#   build: what `meson setup` and `ninja` need (no test package: the unit
#          tests are skipped in a build configured without cmocka)
#   demo:  build, and python3 that scripts/demo.sh prints the clusters with
#   test:  build, and cmocka, clang (the sanitizer build), python3 and the
#          tools the CLI test scripts use
# Needs root (apt-get) only when something is actually missing.
set -eu

pkgs="gcc make pkg-config meson ninja-build libxxhash-dev libutf8proc-dev
libzstd-dev zlib1g-dev libjansson-dev libdivsufsort-dev liblmdb-dev
libmicrohttpd-dev zstd gzip"
if [ "${1:-build}" = demo ]; then
    pkgs="$pkgs python3"
fi
if [ "${1:-build}" = test ]; then
    # curl: the service tests; libxml2-utils (xmllint) and chromium: the
    # report tests; strace: the directory-fsync checks; python3-*: the
    # Python binding and its pytest suite; Open MPI: mpirun winnow dedup.
    pkgs="$pkgs libcmocka-dev clang libclang-rt-14-dev python3 util-linux binutils time
curl libxml2-utils chromium strace python3-dev python3-pytest python3-mesonpy
python3-pandas python3-pip libopenmpi-dev openmpi-bin"
fi
if [ "${1:-build}" = python ]; then
    pkgs="$pkgs python3-dev python3-mesonpy python3-pip python3-pandas"
fi
if [ "${1:-build}" = lint ]; then
    pkgs="$pkgs clang clang-tidy cppcheck valgrind"
fi

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "winnow: installing missing packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "winnow: run as root, or install them: apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
