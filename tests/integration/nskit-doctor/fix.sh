#!/bin/bash
# --fix: each broken state made for real; --dry-run changes nothing, --fix
# repairs it (the doctor reports ok, and rootless nsenter-user works for the
# user), a second --fix changes nothing.
#
# ping_group_range is per network namespace and the sandbox shares the
# machine's: every --fix runs in a network namespace of its own (one for the
# whole file, so that a second run sees the first one's value). The
# max_user_namespaces case runs in a user namespace of its own, where the
# value is per namespace. Mount propagation changes stay in the sandbox's
# mount namespace.
. "$NSKIT_TOP/tests/integration/lib.sh"

finding() { printf '%s\n' "$out" | awk -v id="$1" '$1==id{print $2}'; }
# A finding's state AFTER, in --fix's closing table (ID BEFORE AFTER FINDING).
after() { printf '%s\n' "$out" | awk -v id="$1" '$1==id && ($2=="ok"||$2=="warn"||$2=="fail"){print $3}' | tail -1; }
state() { # the files --fix may change, and /'s propagation
	cksum /etc/subuid /etc/subgid 2>&1
	cat /etc/sysctl.d/60-nskit.conf 2>&1
	findmnt -no PROPAGATION / 2>&1
	ls -ld /run/user/* 2>&1
	nsenter --net --target "$NET" cat /proc/sys/net/ipv4/ping_group_range
}
bg NET unshare --net sleep 600
i=0; while [ "$(readlink /proc/$NET/ns/net)" = "$(readlink /proc/self/ns/net)" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
[ $i -lt 500 ] || echo "# timeout waiting for the network namespace of $NET"
fix() { nsenter --net --target "$NET" nskit-doctor --fix "$@"; }
# /run/user of the machine is not ours: a tmpfs over it in the sandbox.
mount -t tmpfs -o mode=0755 nskit-run-user /run/user
host_ping=$(cat /proc/sys/net/ipv4/ping_group_range)
host_max=$(cat /proc/sys/user/max_user_namespaces)

# --- missing ranges, a network namespace's ping_group_range, / not shared,
# no /run/user/UID: all at once for alice.
mkuser alice
uid=$(id -u alice)
subid-alloc --release alice >/dev/null
as_argv alice
run nsenter --net --target "$NET" "${AS[@]}" nskit-doctor
is "$rc $(finding subuid-range) $(finding subgid-range) $(finding root-shared) $(finding ping-group-range)" \
	"1 fail fail warn warn" "before: no ranges, / private, ping excluded"
before=$(state)
run fix --dry-run --user alice
is "$rc" 1 "--dry-run: exit 1 (the failures remain)"
like "$out" "^# nskit-doctor --fix --dry-run: the changes, none made" "--dry-run says so"
like "$out" $'\nsubid-alloc alice\n' "--dry-run prints the subid-alloc command"
like "$out" $'\nmnt-share --no-recursive /\n' "--dry-run prints the mnt-share command"
like "$out" $'\nsysctl -w net.ipv4.ping_group_range="0 2147483647"\n' "--dry-run prints the sysctl"
like "$out" $'cat > /etc/sysctl.d/60-nskit.conf <<\'EOF\'\n# Written by nskit-doctor --fix: settings rootless user namespaces need.\n# net.ipv4.ping_group_range was 1 0 before nskit-doctor --fix \\(to undo: remove the next line, and \'sysctl -w net.ipv4.ping_group_range="1 0"\'\\)\nnet.ipv4.ping_group_range = 0 2147483647\nEOF' \
	"--dry-run prints the drop-in's content"
like "$out" $'\ninstall -d -m 0700 -o '"$uid -g $(id -g alice) /run/user/$uid"$'\n' "--dry-run prints the runtime folder it would make"
is "$(state)" "$before" "--dry-run changes nothing"

run fix --user alice
is "$rc" 0 "--fix: exit 0"
is "$(after subuid-range) $(after subgid-range)" "ok ok" "--fix: the ranges, fail then ok"
is "$(after root-shared) $(after ping-group-range) $(after xdg-runtime-dir)" "ok ok ok" "--fix: /, ping, /run/user/$uid"
start=$(awk -F: -v u=alice '$1==u{print $2; exit}' /etc/subuid)
gstart=$(awk -F: -v u=alice '$1==u{print $2; exit}' /etc/subgid)
isnt "$start" "" "alice has a subuid range now"
is "$(findmnt -no PROPAGATION /)" shared "/ is shared"
is "$(nsenter --net --target "$NET" cat /proc/sys/net/ipv4/ping_group_range | tr -s '\t ' ' ')" "0 2147483647" "ping_group_range applied now"
is "$(tr -s '\t ' ' ' < /proc/sys/net/ipv4/ping_group_range)" "$(echo "$host_ping" | tr -s '\t ' ' ')" "the machine's ping_group_range is untouched"
like "$(cat /etc/sysctl.d/60-nskit.conf)" $'\nnet.ipv4.ping_group_range = 0 2147483647$' "the drop-in has the line"
is "$(stat -c '%U %a' /run/user/$uid)" "alice 700" "/run/user/$uid: alice's, 0700"
run nsenter --net --target "$NET" "${AS[@]}" XDG_RUNTIME_DIR=/run/user/$uid nskit-doctor
is "$rc" 0 "after --fix the doctor passes for alice"
is "$(printf '%s\n' "$out" | awk 'NR>1 && /^[^ ]/ && $2!="ok"')" "" "every finding is ok"
bg P as alice nsenter-user sleep 600
i=0; while [ "$(cat /proc/$P/comm 2>/dev/null)" != sleep ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
is "$(kmap $P uid) $(kmap $P gid)" "0 $uid 1|1 $start 65536 0 $(id -g alice) 1|1 $gstart 65536" "rootless nsenter-user works: the full map"
after_fix=$(state)
run fix --user alice
is "$rc" 0 "a second --fix: exit 0"
like "$out" "^# nothing to change" "a second --fix has nothing to change"
is "$(state)" "$after_fix" "a second --fix changes nothing"

# --- a range too small (1000 ids) and one containing the user's own uid.
mkuser carol
mkuser dave
cs=$(awk -F: -v u=carol '$1==u{print $2; exit}' /etc/subuid)
duid=$(id -u dave)
sed -i '/^carol:/d; /^dave:/d' /etc/subuid /etc/subgid
echo "carol:$cs:1000" >> /etc/subuid
echo "carol:$cs:1000" >> /etc/subgid
echo "dave:$((duid - 5)):65536" >> /etc/subuid
echo "dave:$((duid - 5)):65536" >> /etc/subgid
run as carol nskit-doctor
is "$rc $(finding subuid-size)" "1 fail" "before: carol's range is too small"
run as dave nskit-doctor
is "$(finding subuid-self) $(finding subgid-self)" "warn warn" "before: dave's range contains his own ids"
before=$(state)
run fix --dry-run --user carol --user dave
like "$out" $'\nsubid-alloc --release --uid-only carol\nsubid-alloc --release --gid-only carol\nsubid-alloc carol\n' "--dry-run: carol's ranges released and made again"
like "$(printf '%s\n' "$out" | tr '\n' ' ')" "# 'carol' has the unusable range $cs:1000 in /etc/subuid \(to undo: put the line # 'carol:$cs:1000' back\)" "with the way back, every line a comment"
like "$out" $'\nsubid-alloc --release --uid-only dave\nsubid-alloc --release --gid-only dave\nsubid-alloc dave\n' "--dry-run: dave's too"
is "$(state)" "$before" "--dry-run changes nothing"
run fix --user carol --user dave
is "$rc" 0 "--fix carol and dave: exit 0"
is "$(after subuid-size) $(after subgid-size)" "ok ok" "carol's sizes: ok now"
is "$(awk -F: -v u=carol '$1==u{print $3}' /etc/subuid /etc/subgid | paste -sd' ')" "65536 65536" "carol has 65536 ids"
is "$(awk -F: -v u=dave -v id="$duid" '$1==u && $2<=id && $2+$3>id' /etc/subuid /etc/subgid)" "" "dave's ranges no longer contain his id"
run as carol nskit-doctor
is "$rc $(finding subuid-size)" "0 ok" "the doctor passes for carol"
run as dave nskit-doctor
is "$rc $(finding subuid-self) $(finding subgid-self)" "0 ok ok" "the doctor passes for dave"
run as carol nsenter-user cat /proc/self/uid_map
is "$(echo "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" "0 $(id -u carol) 1|1 $(awk -F: -v u=carol '$1==u{print $2}' /etc/subuid) 65536" "nsenter-user works for carol"
run as dave nsenter-user cat /proc/self/uid_map
is "$rc" 0 "nsenter-user works for dave"
after_fix=$(state)
run fix --user carol --user dave
like "$rc $out" "^0 # nothing to change" "a second --fix: nothing to change"
is "$(state)" "$after_fix" "a second --fix changes nothing"

# --- /run/user/UID with the wrong mode.
chmod 0755 /run/user/$uid
run fix --dry-run --user alice
like "$out" $'\nchmod 0700 /run/user/'"$uid"$'\n' "--dry-run prints the chmod"
is "$(stat -c %a /run/user/$uid)" 755 "--dry-run changes nothing"
run fix --user alice
is "$rc $(after xdg-runtime-dir) $(stat -c %a /run/user/$uid)" "0 ok 700" "--fix: mode 0700"
chown root /run/user/$uid
run fix --user alice
is "$rc $(after xdg-runtime-dir)" "1 fail" "another owner's folder: not fixed, exit 1"
like "$out" "# not changed: /run/user/$uid is not a folder of 'alice'" "and says why"
is "$(stat -c %U /run/user/$uid)" root "it is left as it was"
chown alice /run/user/$uid

# --- user.max_user_namespaces 0, in a user namespace of root's own (the value
# is per user namespace): every id mapped, so alice exists inside.
bg N unshare --user --net sleep 600
i=0; while [ "$(readlink /proc/$N/ns/user)" = "$(readlink /proc/self/ns/user)" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
echo "0 0 4294967295" > /proc/$N/uid_map
echo "0 0 4294967295" > /proc/$N/gid_map
as_argv alice
inN() { nsenter --user --net --target "$N" "$@"; }
inN sh -c 'echo 0 > /proc/sys/user/max_user_namespaces; sysctl -q -w net.ipv4.ping_group_range="0 2147483647"'
run inN "${AS[@]}" nskit-doctor
is "$rc $(finding userns-max) $(finding userns-create)" "1 fail fail" "max_user_namespaces 0: the doctor fails"
run inN nskit-doctor --fix --dry-run --user alice
like "$out" $'\nsysctl -w user.max_user_namespaces="15000"\n' "--dry-run prints the sysctl"
is "$(inN cat /proc/sys/user/max_user_namespaces)" 0 "--dry-run changes nothing"
run inN nskit-doctor --fix --user alice
is "$rc $(after userns-max) $(after userns-create)" "0 ok ok" "--fix: userns-max and userns-create ok"
is "$(inN cat /proc/sys/user/max_user_namespaces)" 15000 "the value is applied now"
like "$(cat /etc/sysctl.d/60-nskit.conf)" "# user.max_user_namespaces was 0 before nskit-doctor --fix \(to undo: remove the next line, and 'sysctl -w user.max_user_namespaces=\"0\"'\)"$'\n'"user.max_user_namespaces = 15000" "and in the drop-in, with the old value"
run inN "${AS[@]}" nsenter-user cat /proc/self/uid_map
is "$rc $(echo "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" "0 0 $uid 1|1 $start 65536" "nsenter-user works there"
run inN nskit-doctor --fix --user alice
like "$rc $out" "^0 # nothing to change" "a second --fix: nothing to change"
is "$(cat /proc/sys/user/max_user_namespaces)" "$host_max" "the machine's max_user_namespaces is untouched"

# --- what --fix does not do: a helper that is not setuid is reported, not changed.
cp /usr/bin/newuidmap "$NSKIT_SANDBOX/newuidmap.plain"
chmod 0755 "$NSKIT_SANDBOX/newuidmap.plain"
mount --bind "$NSKIT_SANDBOX/newuidmap.plain" /usr/bin/newuidmap
run fix --user alice
is "$rc $(after newuidmap)" "1 fail" "a plain newuidmap: still failing, exit 1"
is "$(stat -c %a /usr/bin/newuidmap)" 755 "its mode is left alone"
umount /usr/bin/newuidmap

# --- a central subid source is never written.
mkuser erin
subid-alloc --release erin >/dev/null
echo "subid: sss" >> /etc/nsswitch.conf
before=$(cksum /etc/subuid /etc/subgid)
run fix --user erin
is "$rc" 1 "a central source: exit 1"
like "$out" "# not changed: the ranges of 'erin' come from a central source \(the 'subid:' line of" "and says why"
is "$(cksum /etc/subuid /etc/subgid)" "$before" "/etc/subuid and /etc/subgid are left alone"
sed -i '/^subid:/d' /etc/nsswitch.conf

# --- the switches that weaken security are only reported.
if [ -e /proc/sys/kernel/unprivileged_userns_clone ] || [ -e /proc/sys/kernel/apparmor_restrict_unprivileged_userns ]; then
	skip "--fix=sysctl-userns, --fix=apparmor" "not written: this kernel has the switches, the test for them is missing"
else
	# Neither switch here: asked for, they are not invented.
	run nsenter --net --target "$NET" nskit-doctor --fix=sysctl-userns,apparmor --dry-run --user erin
	unlike "$out" "apparmor_restrict_unprivileged_userns|unprivileged_userns_clone" \
		"--fix=sysctl-userns,apparmor: nothing to change on a kernel with neither switch"
	check "--fix=sysctl-userns,apparmor: no drop-in names them" \
		sh -c '! grep -rqs "apparmor_restrict_unprivileged_userns\|unprivileged_userns_clone" /etc/sysctl.d'
fi

# --- usage.
expect_fail 2 "nskit-doctor: unknown --fix 'bogus' (apparmor, sysctl-userns)
Try 'nskit-doctor --help' for more information." "--fix=bogus: exit 2" nskit-doctor --fix=bogus
expect_fail 2 "nskit-doctor: --dry-run goes with --fix
Try 'nskit-doctor --help' for more information." "--dry-run alone: exit 2" nskit-doctor --dry-run
expect_fail 1 "nskit-doctor: --fix changes the system and needs root (--fix --dry-run shows the changes)" \
	"--fix as a user: exit 1" as alice nskit-doctor --fix
run as alice nskit-doctor --fix --dry-run
is "$rc" 0 "--fix --dry-run as a user works"

done_testing
