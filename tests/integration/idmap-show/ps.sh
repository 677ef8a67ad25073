#!/bin/bash
# --ps: the processes of a namespace with their user inside and on the host,
# compared with the kernel's view and with podman's own user namespace.
#
# The processes compared here are those of `podman unshare`, podman's
# rootless namespace; podman-top.sh compares with `podman top` of a running
# container.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
uid=$(id -u alice)
sub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)

userns_proc P alice
run as alice idmap-apply "$P"
is "$rc" 0 "alice's default map"
bg Q nsenter --user --target "$P" --setuid 1 --setgid 1 sleep 601
i=0; while [ "$(cat /proc/$Q/comm 2>/dev/null)" != sleep ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done

run as alice idmap-show --ps "$P"
is "$rc" 0 "--ps exits 0"
is "$(echo "$out" | head -n1 | tr -s ' ' | sed 's/^ //')" "PID USER HUSER COMMAND" "--ps columns"
is "$(echo "$out" | awk -v p="$P" '$1==p{print $2, $3, $4, $5}')" "root alice sleep 600" "the namespace's root is alice on the host"
is "$(echo "$out" | awk -v p="$Q" '$1==p{print $2, $3, $4, $5}')" "daemon $((sub)) sleep 601" "uid 1 (daemon) is alice's first subordinate uid"
is "$(echo "$out" | awk 'NR>1{print $1}' | sort -n | paste -sd' ')" "$(printf '%s\n' "$P" "$Q" | sort -n | paste -sd' ')" "--ps lists exactly the namespace's processes"
# The host's view of the same processes (ps reads /proc/PID/status too).
is "$(ps -o user= -p "$P" | tr -d ' ') $(ps -o uid= -p "$Q" | tr -d ' ')" "alice $sub" "ps on the host agrees on HUSER"
run as alice idmap-show --ps --json "$P"
is "$(echo "$out" | jq -c --argjson p "$Q" '.processes[] | select(.pid == $p) | [.user, .huser]')" "[\"daemon\",\"$sub\"]" "--ps --json"

# podman's rootless namespace: the same processes seen from the host and
# from inside podman unshare.
if ! command -v podman >/dev/null; then
	skip "podman unshare comparison" "podman is not installed"
else
	bg U as alice podman unshare sleep 602
	i=0; S=
	while [ -z "$S" ] && [ $i -lt 500 ]; do S=$(pgrep -u alice -f '^sleep 602$'); sleep 0.02; i=$((i + 1)); done
	run as alice idmap-show --map "$S"
	is "$(echo "$out" | grep -E '^[bu] ' | awk '{print $2, $3, $4}')" "$(as alice podman unshare cat /proc/self/uid_map | awk '{print $1, $2, $3}')" \
		"--map of a podman unshare process equals podman's uid map"
	is "$(echo "$out" | grep -E '^[bg] ' | awk '{print $2, $3, $4}')" "$(as alice podman unshare cat /proc/self/gid_map | awk '{print $1, $2, $3}')" \
		"--map of a podman unshare process equals podman's gid map"
	run as alice idmap-show --ps "$S"
	host=$(echo "$out" | awk 'NR>1{print $1, $2, $3}' | sort)
	inside=$(as alice podman unshare idmap-show --ps | awk 'NR>1{print $1, $2, $3}' | sort)
	want=$(echo "$host" | awk '{print $1}')
	like "$host" "^[0-9]+ root alice" "podman's processes: root inside, alice on the host"
	# From inside, every process of the host's list shows the same USER and,
	# one level up, the same HUSER.
	same=1
	for p in $want; do
		h=$(echo "$host" | awk -v p="$p" '$1==p{print $2, $3}')
		n=$(echo "$inside" | awk -v p="$p" '$1==p{print $2, $3}')
		[ -z "$n" ] && continue   # pids of the namespace differ only when a pid namespace is used
		[ "$h" = "$n" ] || { same=0; diag "pid $p: host '$h', inside '$n'"; }
	done
	is "$same" 1 "idmap-show --ps inside podman unshare agrees with the host's view"
	is "$(as alice podman unshare stat -c %u "/proc/$S")" "$(echo "$host" | awk -v p="$S" '$1==p{print $2}' | sed 's/^root$/0/')" \
		"podman unshare's stat of the process agrees with USER"
fi

done_testing
