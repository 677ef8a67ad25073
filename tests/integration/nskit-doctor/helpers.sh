#!/bin/bash
# Helper findings: newuidmap/newgidmap broken for real inside the sandbox's
# mount namespace, no_new_privs, the capability bounding set.
. "$NSKIT_TOP/tests/integration/lib.sh"

finding() { printf '%s\n' "$out" | awk -v id="$1" '$1==id{print $2}'; }
# The finding's row and its continuation lines (wrapped text, the fix), as one line.
line() { printf '%s\n' "$out" | awk -v id="$1" '/^[^ ]/{p=($1==id)} p{printf "%s ", $0} END{print ""}' | tr -s ' ' | sed 's/ $//'; }

mkuser alice
run as alice nskit-doctor
is "$rc $(finding newuidmap) $(finding userns-map)" "0 ok ok" "before: the helpers work"

# A copy of newuidmap without the setuid bit, bound over the real one.
cp /usr/bin/newuidmap "$NSKIT_SANDBOX/newuidmap.plain"
chmod 0755 "$NSKIT_SANDBOX/newuidmap.plain"
mount --bind "$NSKIT_SANDBOX/newuidmap.plain" /usr/bin/newuidmap
run as alice nskit-doctor
is "$rc" 1 "newuidmap not setuid: exit 1"
is "$(line newuidmap)" "newuidmap fail /usr/bin/newuidmap is neither setuid root nor has the file capability cap_setuid (owner 0, mode 0755) fix: as root: 'chmod u+s /usr/bin/newuidmap' (owner root) or 'setcap cap_setuid+ep /usr/bin/newuidmap', or reinstall it" \
	"newuidmap fails with what and the fix"
is "$(finding userns-map)" fail "and the full map cannot be written"
like "$(line userns-map)" "newuidmap" "userns-map carries newuidmap's failure"

# The same copy with the file capability instead (as Fedora ships it).
setcap cap_setuid+ep "$NSKIT_SANDBOX/newuidmap.plain"
run as alice nskit-doctor
is "$rc $(finding newuidmap) $(finding userns-map)" "0 ok ok" "with cap_setuid+ep: newuidmap ok and the map is written"
like "$(line newuidmap)" "has the file capability cap_setuid" "the file capability is read"
umount /usr/bin/newuidmap

# newgidmap on a nosuid mount.
mount --bind /usr/bin/newgidmap /usr/bin/newgidmap
mount -o remount,bind,nosuid /usr/bin/newgidmap
run as alice nskit-doctor
is "$rc" 1 "newgidmap on a nosuid mount: exit 1"
is "$(finding newgidmap) $(finding newgidmap-nosuid)" "ok fail" "newgidmap-nosuid fails (the bit is there)"
is "$(finding userns-map)" fail "the full map cannot be written"
umount /usr/bin/newgidmap

# A helper that is not there ($NEWUIDMAP names a missing file).
as_argv alice
run "${AS[@]}" NEWUIDMAP=/nonexistent/newuidmap nskit-doctor
is "$rc" 1 "a missing helper: exit 1"
like "$(line newuidmap)" "^newuidmap fail newuidmap '/nonexistent/newuidmap' \(from \\\$NEWUIDMAP\) cannot be run" "newuidmap fails: not found"

# no_new_privs.
run setpriv --no-new-privs "${AS[@]}" nskit-doctor
is "$rc" 1 "no_new_privs: exit 1"
is "$(line no-new-privs)" "no-new-privs fail no_new_privs is set: newuidmap and newgidmap get no privileges fix: run without no_new_privs (e.g. not under 'setpriv --no-new-privs', systemd NoNewPrivileges= or a container with no-new-privileges)" "no-new-privs fails with the fix"
is "$(finding userns-map) $(finding newuidmap)" "fail ok" "no_new_privs: the map fails though the helper is fine"

# The capability bounding set without cap_setuid.
# One setpriv: the set is dropped while root still has cap_setuid to change uid.
run setpriv --reuid=alice --regid="$(id -g alice)" --init-groups --bounding-set=-setuid "${AS[@]:4}" nskit-doctor
is "$rc" 1 "bounding set without cap_setuid: exit 1"
is "$(finding cap-bounding)" fail "cap-bounding fails"
like "$(line cap-bounding)" "lacks cap_setuid:" "cap-bounding names the capability"
is "$(finding userns-map)" fail "the full map cannot be written"

done_testing
