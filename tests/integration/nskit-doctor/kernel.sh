#!/bin/bash
# Kernel findings made for real: max_user_namespaces 0 in a private user
# namespace, the nesting limit, a seccomp filter, /'s propagation and
# ping_group_range in the sandbox's own mount and network namespaces.
. "$NSKIT_TOP/tests/integration/lib.sh"

finding() { printf '%s\n' "$out" | awk -v id="$1" '$1==id{print $2}'; }
# The finding's row and its continuation lines (wrapped text, the fix), as one line.
line() { printf '%s\n' "$out" | awk -v id="$1" '/^[^ ]/{p=($1==id)} p{printf "%s ", $0} END{print ""}' | tr -s ' ' | sed 's/ $//'; }

mkuser alice

# max_user_namespaces is per user namespace (Linux 4.9): set to 0 in a
# namespace of alice's, it forbids new ones below it only.
run as alice unshare --user --map-root-user sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec nskit-doctor'
is "$rc" 1 "max_user_namespaces 0: exit 1"
is "$(line userns-max)" "userns-max fail user.max_user_namespaces is 0: no user namespace may be created fix: as root: 'sysctl -w user.max_user_namespaces=15000' (and in /etc/sysctl.d/)" "userns-max fails"
is "$(finding userns-create)" fail "the probe cannot create one"
like "$(line userns-create)" "No space left on device \(user.max_user_namespaces is 0\)" "userns-create says why"
isnt "$(cat /proc/sys/user/max_user_namespaces)" 0 "outside that namespace the limit is untouched"

# Nesting: 31 levels below the host leave 2; 33 leave none.
cmd=(nskit-doctor)
for i in $(seq 31); do cmd=(unshare --user --map-root-user "${cmd[@]}"); done
run as alice "${cmd[@]}"
is "$(finding userns-nesting)" warn "31 levels deep: userns-nesting warns"
like "$(line userns-nesting)" "only 2 more levels of user namespaces can be nested" "it counts the levels left"
cmd=(unshare --user --map-root-user unshare --user --map-root-user "${cmd[@]}")
run as alice "${cmd[@]}"
is "$rc $(finding userns-create)" "1 fail" "33 levels deep: userns-create fails"

# A seccomp filter refusing CLONE_NEWUSER, as a container's profile does.
as_argv alice
run "$NSKIT_SANDBOX/helpers/doctor-seccomp" "${AS[@]}" nskit-doctor
is "$rc" 1 "seccomp filter: exit 1"
is "$(finding userns-seccomp) $(finding userns-create)" "fail fail" "userns-seccomp and userns-create fail"
like "$(line userns-create)" "Operation not permitted \(a seccomp filter \(a container or sandbox\) refuses it\)" "userns-create blames the filter"

# / private (the sandbox's default) and shared, in the sandbox's mount namespace.
run as alice nskit-doctor
is "$(finding root-shared)" warn "a private /: root-shared warns"
mount --make-rshared /
run as alice nskit-doctor
is "$(line root-shared)" "root-shared ok / is a shared mount" "a shared /: root-shared ok"
mount --make-rprivate /

# ping_group_range is per network namespace.
run as alice nskit-doctor
is "$(finding ping-group-range)" "$(awk -v g="$(id -g alice)" '{print (g >= $1 && g <= $2) ? "ok" : "warn"}' /proc/sys/net/ipv4/ping_group_range)" "ping-group-range follows the sysctl"
run unshare --net sh -c 'sysctl -q -w net.ipv4.ping_group_range="0 0" && exec "$@"' sh "${AS[@]}" nskit-doctor
like "$(line ping-group-range)" "^ping-group-range warn net.ipv4.ping_group_range \(0 0\) excludes every group of 'alice'" "a range without alice's groups: warn"
run unshare --net sh -c 'sysctl -q -w net.ipv4.ping_group_range="0 2147483647" && exec "$@"' sh "${AS[@]}" nskit-doctor
is "$(finding ping-group-range)" ok "a range with alice's groups: ok"

is "$(finding overflow-ids)" "$( [ "$(cat /proc/sys/kernel/overflowuid)" = 65534 ] && echo ok || echo warn)" "overflow-ids follows the sysctls"
is "$(finding userns-clone) $(finding userns-apparmor)" "ok ok" "sysctls this kernel lacks are ok"

done_testing
