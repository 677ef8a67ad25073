#!/bin/bash
# nsenter-user: the options that do not go together. Every rule of the
# conflict table, with its exact message and exit status 1, and nothing
# made on the way: no session folder, no slice folder, no namespace.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser nso || exit 1
uid=$(id -u nso)
sessions=$NSKIT_SANDBOX/run/$uid/nskit
slices=/tmp/nskit-$uid
try="Try 'nsenter-user --help' for more information."

# conflict MESSAGE ARGS...: refused with MESSAGE, exit 1 (fd 3 is open for
# the descriptor options).
conflict() {
	local msg=$1
	shift
	expect_fail 1 "nsenter-user: $msg
$try" "refused: $*" as nso nsenter-user "$@" 3</dev/null 4</dev/null
}

conflict "--keep, --join, --stop and --list are mutually exclusive" --keep a --join b true
conflict "--keep, --join, --stop and --list are mutually exclusive" --list --stop a
conflict "--keep, --join, --stop and --list are mutually exclusive" --keep a --list
conflict "--list takes no command" --list true
conflict "--list takes no other options" --list -r
conflict "--list takes no other options" --list --fork
conflict "--list takes no other options" --list -U 0
conflict "--list takes no other options" --list --setgroups deny
conflict "--stop takes no command" --stop a true
conflict "--stop takes no other options" --stop a --no-mount
conflict "--stop takes no other options" --stop a --kill-child
conflict "--stop takes no other options" --stop a --no-new-privs
conflict "--json goes with --list" --stop a --json
conflict "--json goes with --list" --json true
conflict "--json goes with --list" --join a --json -r true
conflict "--join enters existing namespaces: no mapping, namespace or --setgroups options" --join a --no-map true
conflict "--join enters existing namespaces: no mapping, namespace or --setgroups options" --join a --pid true
conflict "--join enters existing namespaces: no mapping, namespace or --setgroups options" --join a --setgroups deny true
conflict "--info-fd and --block-fd go with --no-map" --info-fd 3 true
conflict "--info-fd and --block-fd go with --no-map" -r --block-fd 3 true
conflict "--info-fd and --block-fd must be different descriptors" --no-map --info-fd 3 --block-fd 3 true
conflict "--pid needs a mount namespace for its /proc (drop --no-mount)" --pid --no-mount true
conflict "--propagation needs a mount namespace (drop --no-mount)" --propagation shared --no-mount true
conflict "--keep and --pid are mutually exclusive (a session has no pid namespace)" --keep a --pid true
conflict "--setgroups goes with a map (with --no-map the caller writes setgroups)" --no-map --setgroups deny true
conflict "--setgroups goes with a map (with --no-map the caller writes setgroups)" --keep a --no-map --setgroups allow

# What may go together still does (a refusal above is not one of everything).
run as nso nsenter-user --no-map --info-fd 3 --block-fd 4 --no-mount true 3>/dev/null 4</dev/null
is "$rc" 0 "--no-map with --info-fd and --block-fd, and --no-mount: accepted"
run as nso nsenter-user --list --json
is "$rc" 0 "--list --json: accepted"

# Nothing was made by a refused command: a usage error is found before any
# folder is created (the session folder above only exists once --list or
# --keep had a reason to look; --list does not create it).
check "no session folder was created" test ! -e "$sessions"
check "no slice folder was created" test ! -e "$slices"

done_testing
