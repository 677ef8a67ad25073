#!/bin/bash
# idmap-show --ps against podman top: the processes of a rootless container
# of a test user, with USER (the name in the container's /etc/passwd) and
# HUSER (the uid on the host, through the user namespace's map) as podman
# prints them.
#
# No image can be pulled here, so the image is imported from a tiny rootfs
# made of the host's sleep, sh and their libraries, with an /etc/passwd
# that has root and app (uid 1000). The container runs sleep as root, and
# podman exec adds a process as app and one as uid 4242, which has no name.
#
# How podman runs here: storage driver vfs (no fuse-overlayfs mount needed),
# --network none (slirp4netns cannot open /dev/net/tun in the sandbox) and
# runc: crun refuses a machine with hybrid cgroups ("cgroups in hybrid mode
# not supported, drop all controllers from cgroupv2") whatever --cgroups
# says, and podman top refuses a container run with --cgroups=disabled
# ("did not create a cgroup").
. "$NSKIT_TOP/tests/integration/lib.sh"

if ! command -v podman >/dev/null; then
	skip "idmap-show --ps equals podman top" "podman is not installed"
	done_testing
fi
if ! command -v runc >/dev/null; then
	skip "idmap-show --ps equals podman top" "runc is not installed (crun cannot start a container on hybrid cgroups)"
	done_testing
fi

mkuser alice
uid=$(id -u alice)
sub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)
P=(podman --storage-driver vfs --runtime runc)

# The image: sleep, sh (dash on Debian) and what ldd says they need.
root=$NSKIT_SANDBOX/rootfs
shell=$(readlink -f /bin/sh)
mkdir -p "$root/bin" "$root/etc"
cp /usr/bin/sleep "$root/bin/sleep"
cp "$shell" "$root/bin/sh"
for l in $(ldd /usr/bin/sleep "$shell" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}' | grep -v ':$' | sort -u); do
	mkdir -p "$root${l%/*}"
	cp -L "$l" "$root$l"
done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' > "$root/etc/group"
tar -C "$root" -cf "$NSKIT_SANDBOX/rootfs.tar" .
chmod 0644 "$NSKIT_SANDBOX/rootfs.tar"

run as alice "${P[@]}" import "$NSKIT_SANDBOX/rootfs.tar" localhost/nskit-tiny:latest
is "$rc" 0 "podman import of the tiny rootfs"
run as alice "${P[@]}" run -d --network none --name ctr localhost/nskit-tiny:latest sleep 600
is "$rc" 0 "podman run starts the container"
[ "$rc" = 0 ] || diag "$err"
run as alice "${P[@]}" exec -d --user 1000 ctr sleep 601
is "$rc" 0 "podman exec --user 1000 (app)"
run as alice "${P[@]}" exec -d --user 4242 ctr sleep 602
is "$rc" 0 "podman exec --user 4242 (no name)"
C=$(as alice "${P[@]}" inspect --format '{{.State.Pid}}' ctr 2>/dev/null)

# podman top: USER HUSER PID (in the container's pid namespace) and HPID (ours).
i=0
while :; do
	run as alice "${P[@]}" top ctr user huser pid hpid
	[ "$(echo "$out" | awk 'NR>1' | wc -l)" -ge 3 ] && break
	i=$((i + 1))
	[ $i -gt 100 ] && break
	sleep 0.05
done
is "$rc" 0 "podman top exits 0"
is "$(echo "$out" | head -n1 | tr -s ' ' | sed 's/ *$//')" "USER HUSER PID HPID" "podman top columns"
top=$(echo "$out" | awk 'NR>1{print $4, $1, $2, $3}' | sort -n)
is "$(echo "$top" | wc -l)" 3 "podman top lists the container's 3 processes"

# idmap-show --ps of the container's first process, as its owner. The user
# namespace is podman's rootless one, which conmon and catatonit share:
# keep the processes of the container's pid namespace.
run as alice idmap-show --ps "$C"
is "$rc" 0 "idmap-show --ps exits 0"
cpidns=$(readlink "/proc/$C/ns/pid")
ps_all=$(echo "$out" | awk 'NR>1{print $1, $2, $3}')
ps_ctr=$(echo "$ps_all" | while read -r p u h; do
	[ "$(readlink "/proc/$p/ns/pid" 2>/dev/null)" = "$cpidns" ] && echo "$p $u $h"
done | sort -n)

# A host user as a uid: podman prints numbers (the host's /etc/passwd is not
# in the container's mount namespace), idmap-show prints names when it can.
huid() {
	case "$1" in
	*[!0-9]*) id -u "$1" ;;
	*) echo "$1" ;;
	esac
}
# podman names a host uid from the container's /etc/passwd, not the
# host's: where alice's uid is 1000, the HUSER of root reads "app". Its
# names are turned back into numbers through the image's passwd.
podman_huid() {
	case "$1" in
	*[!0-9]*) awk -F: -v n="$1" '$1 == n { print $3; f = 1 } END { if (!f) print "unknown:" n }' "$root/etc/passwd" ;;
	*) echo "$1" ;;
	esac
}

is "$(echo "$ps_ctr" | awk '{print $1}' | paste -sd' ')" "$(echo "$top" | awk '{print $1}' | paste -sd' ')" \
	"idmap-show --ps and podman top list the same processes (host pids)"
like "$ps_all" "^$C root alice\$" "the container's sleep: root inside, alice on the host"

n=0
while read -r hp user huser cpid; do
	[ -n "$hp" ] || continue
	n=$((n + 1))
	got=$(echo "$ps_ctr" | awk -v p="$hp" '$1==p{print $2, $3}')
	# podman's PID is the one in the container's pid namespace: the last of
	# the kernel's NSpid for our HPID.
	is "$(awk '/^NSpid:/{print $NF}' "/proc/$hp/status")" "$cpid" "pid $hp: podman's PID $cpid is its pid in the container"
	is "${got% *}" "$user" "pid $hp: USER '$user' as podman top"
	is "$(huid "${got#* }")" "$(podman_huid "$huser")" "pid $hp: HUSER $huser as podman top"
done <<<"$top"
is "$n" 3 "3 processes compared"

# Independently of both tools: the names and uids they should agree on.
is "$(echo "$top" | while read -r _ user huser _; do echo "$user $(podman_huid "$huser")"; done | sort | paste -sd'|')" \
	"$(printf '%s\n' "4242 $((sub + 4241))" "app $((sub + 999))" "root $uid" | sort | paste -sd'|')" \
	"root is alice, app (1000) and 4242 are alice's subordinate uids"

run as alice "${P[@]}" rm -f -t 0 ctr
is "$rc" 0 "podman rm -f removes the container"

done_testing
