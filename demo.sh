#!/bin/sh
# demo.sh - the README's first command. Needs nothing but /bin/sh and the
# package manager: as root it installs only what the demo needs (make, a C
# compiler, the -dev libraries, newuidmap: see
# 'scripts/install-deps --demo --list'), builds, and shows rootless user
# namespaces as a throw-away user in a sandboxed copy of /etc (the
# machine's own /etc is never touched). As a normal user it shows your own.
set -eu
cd "$(dirname "$0")"
scripts/install-deps --demo
exec make --no-print-directory demo-only
