#!/bin/sh
# The README's two commands on a fresh Debian 12 machine: build a minimal
# bookworm root with Debian's own tools (mmdebstrap, or debootstrap when
# mmdebstrap cannot be installed), from the Debian archive this machine's
# apt sources name, copy the checkout in (the files git tracks, no build
# directory), and run `make demo` and then `make test` in it under chroot.
# Prints how long each took; exit status 0 only when both succeed.
#
# Needs root and network access to the archive. The root only gets `make`
# beyond the minimal system: everything else must come from
# scripts/install-deps.sh, as on a user's machine.
#
# Environment:
#   WN_FRESH_MIRROR  the archive (default: the first bookworm URI of
#                    /etc/apt/sources.list{,.d/*}, else deb.debian.org)
#   WN_FRESH_DIR     where to build the root (default: a new directory under
#                    /var/tmp); removed at the end unless WN_FRESH_KEEP=1
#   WN_FRESH_ONLY    "demo" to stop after `make demo`
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
suite=bookworm

say() { echo "test-fresh: $*"; }
die() { echo "test-fresh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap, chroot and mounts)"

# The archive this machine installs from.
mirror=${WN_FRESH_MIRROR:-}
if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        2>/dev/null | awk -v s="$suite" '$1 == "deb" {
            for (i = 2; i < NF; i++) if ($i !~ /^\[/ && $(i + 1) == s) {
                print $i; exit } }')
fi
if [ -z "$mirror" ]; then
    # deb822 stanzas: the URIs of a stanza whose Suites name the release.
    mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$suite" '
        /^$/ { if (u != "" && hit) { print u; exit } u = ""; hit = 0; next }
        tolower($1) == "uris:" { u = $2 }
        tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
        END { if (u != "" && hit) print u }' | head -1)
fi
: "${mirror:=http://deb.debian.org/debian}"

export DEBIAN_FRONTEND=noninteractive
tool=
if command -v mmdebstrap >/dev/null 2>&1; then
    tool=mmdebstrap
elif apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null 2>&1 &&
    command -v mmdebstrap >/dev/null 2>&1; then
    tool=mmdebstrap
elif command -v debootstrap >/dev/null 2>&1 ||
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1; then
    tool=debootstrap
else
    die "neither mmdebstrap nor debootstrap could be installed"
fi

root=${WN_FRESH_DIR:-}
if [ -z "$root" ]; then
    root=$(mktemp -d /var/tmp/winnow-fresh.XXXXXX)
else
    mkdir -p "$root"
    [ -z "$(ls -A "$root")" ] || die "$root is not empty"
fi
mounted=""
cleanup() {
    st=$?
    for m in $mounted; do # most recent first
        umount "$root$m" 2>/dev/null || umount -l "$root$m" 2>/dev/null ||
            echo "test-fresh: could not unmount $root$m" >&2
    done
    if [ "${WN_FRESH_KEEP:-0}" = 1 ]; then
        say "root kept in $root"
    elif ! grep -q " $root/" /proc/self/mounts; then
        rm -rf "$root"
    else
        echo "test-fresh: $root still has mounts; not removed" >&2
    fi
    exit $st
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s; }
t0=$(now)
say "building a minimal $suite root in $root with $tool from $mirror"
# The root is empty, so mmdebstrap's own sanity check passes; minbase is
# Debian's smallest usable system (essential packages and apt). make is
# what the README's commands are typed into.
if [ $tool = mmdebstrap ]; then
    mmdebstrap --quiet --variant=minbase --include=make "$suite" "$root" \
        "$mirror" >/dev/null || die "mmdebstrap failed"
else
    rmdir "$root" 2>/dev/null || true
    debootstrap --variant=minbase --include=make "$suite" "$root" \
        "$mirror" >/dev/null || die "debootstrap failed"
fi
say "root built in $(($(now) - t0)) s"

# Name resolution for apt-get inside the root.
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

# The checkout as git has it: tracked files (with their working-tree
# contents), no build directory and no untracked output.
mkdir -p "$root/src/winnow"
(cd "$top" && git ls-files -z | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf -) | tar -xf - -C "$root/src/winnow" ||
    die "could not copy the checkout"

mnt() { # TYPE-OR-bind SOURCE TARGET-IN-ROOT
    mkdir -p "$root$3"
    if [ "$1" = bind ]; then
        mount --bind "$2" "$root$3"
    else
        mount -t "$1" "$2" "$root$3"
    fi || die "could not mount $root$3"
    mounted="$3 $mounted"
}
mnt proc proc /proc
mnt sysfs sysfs /sys
mnt bind /dev /dev
mnt bind /dev/pts /dev/pts # apt-get writes its log through a pty
mnt tmpfs tmpfs /dev/shm

in_root() { # COMMAND: run it in the root's checkout as root, a clean env
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        sh -c "cd /src/winnow && $1"
}

status=0
t=$(now)
say "make demo"
if in_root "make demo"; then
    say "make demo: ok in $(($(now) - t)) s"
else
    st=$?
    say "make demo: FAILED (status $st) after $(($(now) - t)) s"
    status=1
fi
if [ "${WN_FRESH_ONLY:-}" != demo ]; then
    t=$(now)
    say "make test"
    if in_root "make test"; then
        say "make test: ok in $(($(now) - t)) s"
    else
        st=$?
        say "make test: FAILED (status $st) after $(($(now) - t)) s"
        status=1
    fi
fi
say "total $(($(now) - t0)) s"
exit $status
