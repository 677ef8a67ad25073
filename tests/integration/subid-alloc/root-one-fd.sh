#!/bin/bash
# subid-alloc and subid-check --root DIR resolve DIR and DIR/etc once: every
# file of the run (nsswitch.conf, login.defs, passwd, group, subuid,
# subgid, and what the writer creates: .pwd.lock, FILE.PID, FILE+) is
# opened relative to that one descriptor, so a DIR/etc swapped between
# two opens cannot mix the files of two trees. strace shows every open.
. "$NSKIT_TOP/tests/integration/lib.sh"

command -v strace >/dev/null || bail "strace is not installed (scripts/install-deps installs it)"
# Every run here is traced, and LeakSanitizer cannot work under ptrace.
[ -n "${NSKIT_ASAN:-}" ] && export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
root=$NSKIT_SANDBOX/img
mkdir -p "$root/etc"
printf 'root:x:0:0::/root:/bin/sh\ndev:x:1000:1000::/home/dev:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\ndev:x:1000:\n' > "$root/etc/group"
printf 'SUB_UID_MIN 100000\n' > "$root/etc/login.defs"
printf 'passwd: files\n' > "$root/etc/nsswitch.conf"
: > "$root/etc/subuid"
: > "$root/etc/subgid"

# DIR and DIR/etc opened exactly once each; every file from DIR/etc's fd
# or a duplicate of it (fcntl F_DUPFD_CLOEXEC: the same open folder).
# $1: the trace; the rest: the files that must be among those opened.
one_fd() {
	local log=$1 etc fd f n bad
	shift
	n=$(basename "$log")
	is "$(grep -c "openat(AT_FDCWD, \"$root\"" "$log")" 1 "$n: DIR is opened once"
	is "$(grep -cE "openat\([0-9]+, \"etc\"" "$log")" 1 "$n: DIR/etc is opened once"
	etc=$(sed -n 's/.*openat([0-9]*, "etc".*= \([0-9]*\)$/\1/p' "$log")
	dups=" $etc $(sed -n "s/.*fcntl($etc, F_DUPFD_CLOEXEC, [0-9]*) *= \([0-9]*\)$/\1/p" "$log" | tr '\n' ' ')"
	is "$(grep -E "\"($root|$root/etc)/" "$log" | grep -c openat)" 0 "$n: no file is opened by a path through DIR"
	for f in "$@"; do
		bad=
		fds=$(sed -n "s/.*openat(\([0-9]*\), \"$f\".*/\1/p" "$log" | sort -u)
		for fd in $fds; do
			[[ $dups == *" $fd "* ]] || bad="$bad $fd"
		done
		check "$n: $f is opened" test -n "$fds"
		is "$bad" "" "$n: $f is opened from DIR/etc's one fd ($etc) or a duplicate of it"
	done
}

run strace -f -qq -e trace=open,openat,fcntl -o "$NSKIT_SANDBOX/alloc.trace" subid-alloc --root "$root" dev
is "$rc" 0 "subid-alloc --root DIR dev"
is "$out" "$root/etc/subuid: add dev:100000:65536
$root/etc/subgid: add dev:100000:65536" "the ranges are allocated"
one_fd "$NSKIT_SANDBOX/alloc.trace" nsswitch.conf login.defs passwd group subuid subgid \
	.pwd.lock "subuid\\.[0-9]*" "subgid\\.[0-9]*" "subuid+" "subgid+"

run strace -f -qq -e trace=open,openat,fcntl -o "$NSKIT_SANDBOX/list.trace" subid-alloc --list --root "$root"
is "$rc" 0 "subid-alloc --list --root DIR"
one_fd "$NSKIT_SANDBOX/list.trace" nsswitch.conf subuid subgid

run strace -f -qq -e trace=open,openat,fcntl -o "$NSKIT_SANDBOX/check.trace" subid-check --root "$root"
is "$rc" 0 "subid-check --root DIR finds nothing wrong"
one_fd "$NSKIT_SANDBOX/check.trace" passwd group subuid subgid

done_testing
