#!/bin/bash
# How the machine's own newuidmap and newgidmap are given their target,
# seen in the execve(2) idmap-apply and nsenter-user make (strace -u: a
# setuid helper keeps its privilege under it): "fd:N", a /proc/PID folder
# the tool opened, when the helper takes that form (no pid-reuse window,
# see pid-reuse.sh); the pid when it does not.
#
# Whether a helper takes fd:N is asked of the helper itself, by giving it
# both forms, and is checked against what each release ships:
#   bookworm  shadow 4.13: a pid only.
#   trixie    shadow 1:4.17.4-2+deb13u1: a pid only as well. Upstream has
#             had fd:<pidfd> since 4.14.0, but Debian 13's build prints the
#             4.13 usage ("<pid>") and refuses "fd:N" with it.
# A release that starts shipping fd:N fails the first check until this
# table says so; from then on a tool that gives that release's helper a
# pid fails the rest.
. "$NSKIT_TOP/tests/integration/lib.sh"

command -v strace >/dev/null || bail "strace is not installed (scripts/install-deps installs it)"
mkuser alice
a=$(id -u alice) ag=$(id -g alice)
asub=$(subid_start alice)
asubg=$(subid_start alice subgid)
declare -A form

# takes_fd HELPER: 0 when HELPER, run by root on a user namespace of root's,
# writes the map given "fd:N" (and 1 when it refuses), 2 when it does not
# even work given the pid.
takes_fd() {
	local helper=$1 p t fd st=1
	bg p unshare --user sleep 600
	wait_until "a process of root in a new user namespace" in_new_userns "$p"
	exec {fd}<"/proc/$p"
	"$helper" "fd:$fd" 0 0 1 >/dev/null 2>&1 && [ -n "$(cat "/proc/$p/${2}_map")" ] && st=0
	exec {fd}<&-
	kill -KILL "$p"
	if [ $st != 0 ]; then
		bg p unshare --user sleep 600
		wait_until "a process of root in a new user namespace" in_new_userns "$p"
		"$helper" "$p" 0 0 1 >/dev/null 2>&1 && [ -n "$(cat "/proc/$p/${2}_map")" ] || st=2
		kill -KILL "$p"
	fi
	return $st
}

case "$NSKIT_RELEASE" in
bookworm | trixie) expect=pid ;;
*) expect="" ;;
esac
for h in newuidmap newgidmap; do
	takes_fd "$(command -v $h)" "${h:3:1}id"
	case $? in
	0) form[$h]=fd ;;
	1) form[$h]=pid ;;
	*) bail "$h does not write a map given the pid of a process of root" ;;
	esac
	if [ -n "$expect" ]; then
		is "${form[$h]}" "$expect" "$NSKIT_RELEASE's $h takes its target as: $expect"
	else
		diag "$h of ${NSKIT_RELEASE:-this system} takes its target as: ${form[$h]}"
	fi
done

# traced LOG CMD...: CMD as alice (a login's environment) under strace,
# every execve in LOG.
# Under ASan the leak check is off: LeakSanitizer cannot run under ptrace
# (it exits 1 at the end of a run that did its work).
traced() {
	local log=$1 san=()
	shift
	[ -n "${NSKIT_ASAN:-}" ] && san=("ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0" "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}")
	# shellcheck disable=SC2046
	strace -f -qq -s 256 -e trace=execve,execveat -e signal=none -o "$log" -u alice \
		env -i $(user_env alice) "${san[@]}" "$@"
}
# target LOG HELPER: the first argument of HELPER's execve in LOG (the
# two helpers run at once: strace may show a call as "<unfinished ...>",
# its result on a line of its own; a failed one says "= -1")
target() {
	grep -E "execve(at)?\\(.*/$2\", \\[" "$1" | grep -v ' = -1 ' |
		sed -nE "s/.*\\/$2\", \\[\"[^\"]*\", \"([^\"]*)\".*/\\1/p" | head -n 1
}
# want_target HELPER PID: what the helper must be given for process PID
# (any pid when PID is empty)
want_target() {
	if [ "${form[$1]}" = fd ]; then echo '^fd:[0-9]+$'; else echo "^${2:-[0-9]+}\$"; fi
}
# --- idmap-apply PID ----------------------------------------------------------
userns_proc t alice
traced "$NSKIT_SANDBOX/apply.trace" idmap-apply -u 0:"$a":1 -u 1:"$asub":100 -g 0:"$ag":1 -g 1:"$asubg":100 "$t"
is "$?:$(kmap "$t" uid)|$(kmap "$t" gid)" "0:0 $a 1|1 $asub 100|0 $ag 1|1 $asubg 100" "idmap-apply under strace -u alice writes both maps"
grep -E 'new[ug]idmap' "$NSKIT_SANDBOX/apply.trace" | diag "$(cat)"
for h in newuidmap newgidmap; do
	like "$(target "$NSKIT_SANDBOX/apply.trace" $h)" "$(want_target $h "$t")" \
		"idmap-apply gives $h its target as ${form[$h]}"
done

# --- nsenter-user (its own child is the target) ------------------------------
run traced "$NSKIT_SANDBOX/nsu.trace" nsenter-user cat /proc/self/uid_map
is "$rc:$(printf '%s\n' "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" "0:0 $a 1|1 $asub $SUB_UID_COUNT" \
	"nsenter-user under strace -u alice maps the default range"
for h in newuidmap newgidmap; do
	like "$(target "$NSKIT_SANDBOX/nsu.trace" $h)" "$(want_target $h)" "nsenter-user gives $h the target as ${form[$h]}"
done

done_testing
