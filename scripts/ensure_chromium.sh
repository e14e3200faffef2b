#!/usr/bin/env bash
# Called by `make test`: install Debian's chromium for the site tests (tests/site) when it is
# missing. Never stops the build: if chromium cannot be installed, the site tests fail with a
# message saying so.
#
#   ensure_chromium.sh --start   begin the install in the background and return at once, so
#                                that apt's download and unpacking overlap the tests and the
#                                build instead of adding to them (its output goes to a log)
#   ensure_chromium.sh           wait for an install begun with --start and show its log; or,
#                                if none was begun, install now
#
# The background install holds a lock (flock) on $STATE.lock until it ends: waiting for it is
# taking that lock. Where flock is missing, --start does nothing and the install happens in
# the second call, as before.
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
STATE="${CHROMIUM_INSTALL_STATE:-_build/chromium-install}"

install_chromium() {
    echo "$CHROMIUM is missing: installing Debian's chromium package with apt-get"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo -n"
        else
            echo "warning: cannot install chromium (not root and no sudo); the site tests will fail" >&2
            return
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "warning: no apt-get here to install chromium; the site tests will fail" >&2
        return
    fi
    $sudo apt-get update -q \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium \
        || echo "warning: apt-get could not install chromium; the site tests will fail" >&2
}

case "${1:-}" in
--start)
    { [ -x "$CHROMIUM" ] || ! command -v flock >/dev/null 2>&1; } && exit 0
    mkdir -p "$(dirname "$STATE")"
    exec 9>"$STATE.lock"
    flock 9
    # the background job inherits descriptor 9, and with it the lock, until it ends; it holds
    # none of this script's output, so whoever reads that output is not kept waiting
    install_chromium </dev/null >"$STATE.log" 2>&1 &
    echo "$CHROMIUM is missing: installing it in the background (log: $STATE.log)"
    ;;
"")
    if [ -e "$STATE.lock" ] && command -v flock >/dev/null 2>&1; then
        flock "$STATE.lock" true # returns when no background install holds the lock
        if [ -f "$STATE.log" ]; then
            echo "chromium, installed in the background ($STATE.log):"
            cat "$STATE.log"
            rm -f "$STATE.log"
        fi
    fi
    [ -x "$CHROMIUM" ] || install_chromium
    ;;
*)
    echo "usage: $0 [--start]; got $*" >&2
    exit 2
    ;;
esac
exit 0
