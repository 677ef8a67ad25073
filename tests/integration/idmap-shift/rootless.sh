#!/bin/bash
# Rootless: a user inside nsenter-user (the full default map) shifts a tree
# from that map to the slice of an --isolate session, and the session then
# sees the owners the default namespace saw (podman's --userns=auto cost,
# paid once, without root). Ids not mapped where it runs are refused.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser shu || exit 1
uid=$(id -u shu) gid=$(id -g shu)
sub=$(awk -F: '$1 == "shu" { print $2; exit }' /etc/subuid)
subg=$(awk -F: '$1 == "shu" { print $2; exit }' /etc/subgid)
t=$NSKIT_SANDBOX/home/shu/tree
st=$NSKIT_SANDBOX/home/shu/state
# On the host: the user's own files (0 inside) and files of ids 5, 10, 20
# inside its default map (host sub+4 ...), an ACL, a capability set inside.
mkdir -p "$t/etc" "$t/srv"
echo x > "$t/etc/conf"
cp /bin/true "$t/srv/ping"
chown -R "$uid:$gid" "$t"
chown "$((sub + 4)):$((subg + 4))" "$t/etc/conf"
chown "$((sub + 9)):$((subg + 9))" "$t/srv"
chmod 4755 "$t/srv/ping"
setfacl -m "u:$((sub + 19)):r" "$t/etc/conf"
chown "$uid:$gid" "$NSKIT_SANDBOX/home/shu"
# The session maps neither shu nor "other": the tree must be reachable
# through a home it may search. Debian 12's login.defs leaves HOME_MODE
# unset (umask 022: 0755), Debian 13's sets 0700.
case "$NSKIT_RELEASE" in
bookworm) want_home=755 ;;
trixie) want_home=700 ;;
*) want_home=$(stat -c %a "$NSKIT_SANDBOX/home/shu") ;;
esac
is "$(stat -c %a "$NSKIT_SANDBOX/home/shu")" "$want_home" "useradd made the home $want_home ($NSKIT_RELEASE)"
chmod 711 "$NSKIT_SANDBOX/home/shu"

inside() { as shu nsenter-user "$@"; }
run inside setcap cap_net_raw+ep "$t/srv/ping"
is "$rc|$err" "0|" "setcap inside the default namespace"
run inside sh -c "cd '$t' && stat -c '%n %u:%g %a' . etc/conf srv srv/ping && getfacl -cpn etc/conf | grep '^user:[0-9]' && getcap srv/ping"
before=$out
is "$(head -3 <<<"$before" | paste -sd,)" ". 0:0 755,etc/conf 5:5 644,srv 10:10 755" "the default namespace sees 0, 5 and 10"

run as shu nsenter-user --keep iso --isolate=4096
is "$rc" 0 "an --isolate=4096 session"
holder=$(as shu nsenter-user --list --json | jq -r '.sessions[] | select(.name == "iso") | .pid' 2>/dev/null)
[ -n "$holder" ] || holder=$(as shu nsenter-user --list | awk '$1 == "iso" { print $2 }')
run as shu nsenter-user --join iso cat /proc/self/uid_map
slice=$(awk '{ print $2 }' <<<"$out")
like "$slice" '^[0-9]+$' "the session's slice starts at host uid $slice"

run inside sh -c "idmap-shift --state-dir '$st' --json --from-pid \$\$ --to-pid $holder '$t'"
is "$rc|$err" "0|" "idmap-shift --from-pid \$\$ --to-pid HOLDER, unprivileged"
like "$out" '"files":5,"changed":5,"acls":1,"capabilities":1' "... shifted every file, the ACL and the capability"
is "$(stat -c %u "$t/etc/conf")" "$((slice + 5))" "on the host: id 5 of the slice"
run as shu nsenter-user --join iso sh -c "cd '$t' && stat -c '%n %u:%g %a' . etc/conf srv srv/ping && getfacl -cpn etc/conf | grep '^user:[0-9]' && getcap srv/ping"
is "$out" "$before" "the session sees the owners, setuid bit, ACL and capability the default namespace saw"

# Back, in the session's terms, from the default namespace: --reverse.
run inside sh -c "idmap-shift --state-dir '$st' -r --from-pid \$\$ --to-pid $holder '$t'"
run inside sh -c "cd '$t' && stat -c '%n %u:%g %a' . etc/conf srv srv/ping && getfacl -cpn etc/conf | grep '^user:[0-9]' && getcap srv/ping"
is "$rc|$out" "0|$before" "--reverse: the default namespace sees the tree as before"

# Refusals.
run inside idmap-shift --state-dir "$st" -m "0:70000:10" "$t"
is "$rc|$err" "1|idmap-shift: cannot shift to uid 70000: not mapped in this user namespace (run it where the ids of the map are mapped)" \
	"a --to id not mapped where it runs: refused before anything changes"
mkdir "$t/root-only"
chmod 700 "$t/root-only"
run inside idmap-shift --state-dir "$st" -m "0:10:100" "$t"
is "$rc" 1 "a subtree it cannot read: refused"
is "$err" "idmap-shift: '$t/root-only': owner uid 65534 is outside --from
idmap-shift: '$t/root-only': group gid 65534 is outside --from
idmap-shift: cannot open directory '$t/root-only': Permission denied
idmap-shift: nothing changed: 1 entry of '$t' cannot be read (see above)" "... listed, nothing changed"
is "$(stat -c %u "$t/etc/conf")" "$((sub + 4))" "... the tree is as it was"
as shu nsenter-user --stop iso

done_testing
