#!/usr/bin/env bash
# Called by `make test`: install Debian's chromium for the site tests (tests/site) when it is
# missing. Never stops the build: if chromium cannot be installed, the site tests fail with a
# message saying so.
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
echo "$CHROMIUM is missing: installing Debian's chromium package with apt-get"
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "warning: cannot install chromium (not root and no sudo); the site tests will fail" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: no apt-get here to install chromium; the site tests will fail" >&2
    exit 0
fi
$SUDO apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium \
    || echo "warning: apt-get could not install chromium; the site tests will fail" >&2
exit 0
