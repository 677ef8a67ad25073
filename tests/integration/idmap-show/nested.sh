#!/bin/bash
# idmap-show on a nested namespace: each level's map in its parent's ids,
# resolved up to the host, checked against the kernel's view.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
uid=$(id -u alice)
sub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)

wait_ns() { # PID PARENT-PID : wait until PID is in a namespace of its own
	local i=0
	while [ "$(readlink "/proc/$1/ns/user" 2>/dev/null)" = "$(readlink "/proc/$2/ns/user")" ] ||
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" != sleep ]; do
		i=$((i + 1))
		[ $i -gt 500 ] && return 1
		sleep 0.01
	done
}

# Level 1: alice's namespace with her default map.
userns_proc P1 alice
run as alice idmap-apply "$P1"
is "$rc" 0 "level 1: alice's default map"

# Level 2: made by root of level 1, mapping its ids 0-999 onto level 1's 1-1000.
bg P2 nsenter --user --target "$P1" --setuid 0 --setgid 0 unshare --user sleep 600
wait_ns "$P2" "$P1"
run nsenter --user --target "$P1" --setuid 0 --setgid 0 idmap-apply -m 0:1:1000 "$P2"
is "$rc" 0 "level 2: root of level 1 maps 0-999 onto 1-1000"
diag "$err"
is "$(kmap "$P2" uid)" "0 $((sub)) 1000" "the kernel shows level 2's map to host ids"

ino1=$(stat -L -c %i "/proc/$P1/ns/user")
ino2=$(stat -L -c %i "/proc/$P2/ns/user")
run as alice idmap-show "$P2"
is "$rc" 0 "idmap-show on the nested namespace exits 0"
want="LEVEL USERNS TYPE INSIDE OUTSIDE COUNT HOST OWNER
2 $ino2 uid 0-999 1-1000 1000 $sub-$((sub + 999)) subuid alice
2 $ino2 gid 0-999 1-1000 1000 $sub-$((sub + 999)) subgid alice
1 $ino1 uid 0 $uid 1 $uid caller alice
1 $ino1 uid 1-65536 $sub-$((sub + 65535)) 65536 $sub-$((sub + 65535)) subuid alice
1 $ino1 gid 0 $uid 1 $uid caller alice
1 $ino1 gid 1-65536 $sub-$((sub + 65535)) 65536 $sub-$((sub + 65535)) subgid alice"
is "$(echo "$out" | tr -s ' ' | sed 's/^ //')" "$want" "level by level: level 2 in level 1's ids, level 1 in the host's"

run as alice idmap-show --map "$P2"
is "$(echo "$out" | grep -v '^#')" "b 0 $sub 1000" "--map of level 2 gives the host's view (/proc/PID/uid_map)"

# A process of uid 5 in level 2: the kernel's host view against --to-host.
bg P5 nsenter --user --target "$P2" --setuid 5 --setgid 5 sleep 600
wait_ns "$P5" "$P1"
hostuid=$(stat -c %u "/proc/$P5")
is "$hostuid" "$((sub + 5))" "the kernel: uid 5 of level 2 is host uid sub+5"
run as alice idmap-show --to-host 5 "$P2"
is "$out" "$hostuid" "--to-host 5 through both levels equals the kernel's view"
run as alice idmap-show --to-ns "$hostuid" "$P2"
is "$out" 5 "--to-ns gives it back"
run as alice idmap-show --to-ns "$uid" "$P2"
is "$out" 65534 "alice's own uid is not mapped in level 2: the overflow uid"

# From inside level 1, level 2's map is in level 1's ids.
run nsenter --user --target "$P1" --setuid 0 --setgid 0 idmap-show --map "$P2"
is "$(echo "$out" | grep -v '^#')" "b 0 1 1000" "seen from level 1, level 2's map is in level 1's ids"
run nsenter --user --target "$P1" --setuid 0 --setgid 0 idmap-show --ps "$P2"
# Names come from the process's /etc/passwd (the host's here): 5 is games, 6 man.
is "$(echo "$out" | awk -v p="$P5" '$1==p{print $2, $3}')" "games man" "--ps from level 1: uid 5 inside, uid 6 in level 1"
run as alice idmap-show --ps "$P2"
is "$(echo "$out" | awk -v p="$P5" '$1==p{print $2, $3}')" "games $hostuid" "--ps from the host: uid 5 inside, host uid sub+5"

done_testing
