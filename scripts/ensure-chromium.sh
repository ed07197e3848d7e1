#!/bin/sh
# Makes sure a headless Chromium is available for the browser test. Installs Debian's package
# where this machine allows it (root with apt-get). Under CI=true a missing browser is an error;
# elsewhere the browser test is skipped with a message.
set -eu
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser test"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    exit 0
fi
if [ "${CI:-}" = "true" ]; then
    echo "error: chromium is not installed and cannot be installed here (need root and apt-get)" >&2
    exit 1
fi
echo "note: chromium is not installed; the browser test will be skipped" >&2
