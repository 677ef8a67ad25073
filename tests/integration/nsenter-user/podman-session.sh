#!/bin/bash
# What nsenter-user(1) says about podman and sessions, run as written there:
# a container started by podman inside a session lives in the session's user
# namespace, so a podman outside (which joins its own pause process) cannot
# exec into it; --join of the session can. Started with --join of podman's
# pause process, the container is podman's own and podman exec from outside
# works. (The image is the tiny rootfs of idmap-show/podman-top.sh; vfs,
# runc and --network none for the same reasons as there.)
. "$NSKIT_TOP/tests/integration/lib.sh"

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	skip "podman in a session" "podman or runc is not installed"
	done_testing
fi
mkuser pod || exit 1
# Where cgroups are v1 or hybrid, podman 5 (Debian 13) warns on every
# command, podman 4 (Debian 12) says nothing: what a command that works
# prints on stderr, its time="..." left out.
cgv1_warning='level=warning msg="Using cgroups-v1 which is deprecated in favor of cgroups-v2 with Podman v5 and will be removed in a future version. Set environment variable `PODMAN_IGNORE_CGROUPSV1_WARNING` to hide this warning."'
quiet=""
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
	case "$NSKIT_RELEASE" in
	bookworm) ;;
	trixie) quiet=$cgv1_warning ;;
	*) [ "$(podman --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')" -ge 5 ] && quiet=$cgv1_warning ;;
	esac
fi
said="nothing on stderr"
[ -n "$quiet" ] && said="the cgroups-v1 warning only"
untimed() { sed -E 's/^time="[^"]*" //' <<<"$1"; }
uid=$(id -u pod)
P="podman --storage-driver vfs --runtime runc"
root=$NSKIT_SANDBOX/rootfs
shell=$(readlink -f /bin/sh)
mkdir -p "$root/bin"
cp /usr/bin/sleep "$root/bin/sleep"
cp /usr/bin/true "$root/bin/true"
cp "$shell" "$root/bin/sh"
for l in $(ldd /usr/bin/sleep /usr/bin/true "$shell" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}' | grep -v ':$' | sort -u); do
	mkdir -p "$root${l%/*}"
	cp -L "$l" "$root$l"
done
tar -C "$root" -cf "$NSKIT_SANDBOX/rootfs.tar" .
chmod 0644 "$NSKIT_SANDBOX/rootfs.tar"
run as pod $P import "$NSKIT_SANDBOX/rootfs.tar" localhost/tiny
is "$rc" 0 "podman import of the tiny rootfs"

# --- started inside a session --------------------------------------------------------------
run as pod nsenter-user --keep pods
run as pod nsenter-user --join pods $P run -d --network none --name web localhost/tiny sleep 600
is "$rc" 0 "nsenter-user --join pods podman run -d: the container starts in the session"
[ "$rc" = 0 ] || diag "$err"
run as pod $P exec web true
isnt "$rc" 0 "podman exec from outside the session fails"
diag "podman exec from outside: $err"
run as pod nsenter-user --join pods $P exec web true
is "$rc:$(untimed "$err")" "0:$quiet" "nsenter-user --join pods podman exec works ($NSKIT_RELEASE: $said)"
run as pod nsenter-user --join pods $P rm -f -t 0 web
is "$rc" 0 "... and so does podman rm in the session"
run as pod nsenter-user --stop pods

# --- started in podman's own namespace: --join of its pause process -------------------------
run as pod $P unshare true
pause=$NSKIT_SANDBOX/run/$uid/libpod/tmp/pause.pid
check "podman's pause process is recorded" test -s "$pause"
run as pod sh -c "nsenter-user --join \"\$(cat \$XDG_RUNTIME_DIR/libpod/tmp/pause.pid)\" $P run -d --network none --name db localhost/tiny sleep 600"
is "$rc" 0 "nsenter-user --join PAUSE-PID podman run -d"
[ "$rc" = 0 ] || diag "$err"
run as pod $P exec db true
is "$rc:$(untimed "$err")" "0:$quiet" "podman exec from outside works for that one"
run as pod $P rm -f -t 0 db

# podman keeps its locks in /dev/shm (libpod_rootless_lock_UID, owned by
# a user the machine does not know): the sandbox's own tmpfs, gone with it,
# or every run would leave one in the machine's /dev/shm (tests/run checks).
# (The last mount on /dev/shm is the one seen there.)
check "podman's shm lock file is in /dev/shm" test -f "/dev/shm/libpod_rootless_lock_$uid"
is "$(findmnt -n -o SOURCE -T /dev/shm | tail -n 1)" "nskit-shm" \
	"... which is the sandbox's private tmpfs, not the machine's"

done_testing
