#!/bin/sh
# check.sh - the README's test command. Needs nothing but /bin/sh and the
# package manager: as root it installs what building and testing need
# (make, a C compiler, the -dev libraries, Check, podman, buildah, ...: see
# 'scripts/install-deps --list'), then runs 'make check': every unit suite
# and every integration test, ending with "N passed, N failed".
# As a normal user it says what is missing and how to get it, and runs what
# it can: the unit suites; the integration tests (they need root) are
# listed as skipped. NSKIT_MUST_WORK=1 turns every skip into a failure.
set -eu
cd "$(dirname "$0")"
scripts/install-deps
exec make --no-print-directory check-only
