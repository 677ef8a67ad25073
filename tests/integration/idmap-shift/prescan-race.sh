#!/bin/bash
# The default --unmapped fail walk reads each entry's xattrs as it reaches
# it. An ACL or a capability added, or an ACL removed, after the run began
# (paused at its first chown, killat.so NSKIT_PAUSEAT, while the tree is
# changed) must be shifted and kept as the file has it then.
. "$NSKIT_TOP/tests/integration/lib.sh"

H=$NSKIT_SANDBOX/helpers
[ "${NSKIT_ASAN:-0}" = 1 ] && asan="${ASAN_OPTIONS:-}:verify_asan_link_order=0" || asan=${ASAN_OPTIONS:-}
max=$(awk '$1 == "SUB_UID_MAX" { print $2 }' /etc/login.defs)
B=$(( ${max:-600100000} + 65536 ))
t=$NSKIT_SANDBOX/tree
st=$NSKIT_SANDBOX/state
p=$NSKIT_SANDBOX/pause
mkdir -p "$t/a/b" "$p"
for f in acl-later cap-later acl-gone plain; do cp /bin/true "$t/a/b/$f"; done
mkdir "$t/a/dir-later"
setfacl -m u:3:r "$t/a/b/acl-gone"
chown -R 0:0 "$t"
mkfifo "$p/paused" "$p/go"

env NSKIT_PAUSEAT=fchownat NSKIT_PAUSE_DIR="$p" LD_PRELOAD="$H/killat.so" ASAN_OPTIONS="$asan" \
	idmap-shift --state-dir "$st" -j 1 -m "0:$B:65536" "$t" > "$NSKIT_SANDBOX/out" 2> "$NSKIT_SANDBOX/err" &
shifter=$!
# Blocks until the shift is at its first chown: the scan is over.
read -r _ < "$p/paused"
is "$(stat -c %u "$t/a/b/plain")" 0 "paused after the scan, before any chown"
setfacl -m u:7:r,g:8:r "$t/a/b/acl-later"
setfacl -d -m u:9:rwx "$t/a/dir-later"
setcap cap_net_raw+ep "$t/a/b/cap-later"
setfacl -b "$t/a/b/acl-gone"
: > "$p/go"
wait "$shifter"
is "$?|$(cat "$NSKIT_SANDBOX/err")" "0|" "the shift completes"

is "$(stat -c %u:%g "$t/a/b/acl-later")" "$B:$B" "owners shifted"
is "$(getfacl -cn "$t/a/b/acl-later" 2>/dev/null | grep -E '^(user|group):[0-9]')" \
	"user:$((B + 7)):r--
group:$((B + 8)):r--" "an ACL added after the scan is shifted"
is "$(getfacl -cnd "$t/a/dir-later" 2>/dev/null | grep -E '^user:[0-9]')" \
	"user:$((B + 9)):rwx" "a default ACL added after the scan is shifted"
is "$(getcap "$t/a/b/cap-later")" "$t/a/b/cap-later cap_net_raw=ep" "a capability added after the scan survives the chown"
is "$(getfacl -cn "$t/a/b/acl-gone" 2>/dev/null | grep -cE '^user:[0-9]')" 0 "an ACL removed after the scan stays removed"
is "$(getcap "$t/a/b/plain")|$(stat -c %u:%g "$t/a/b/plain")" "|$B:$B" "an untouched file: shifted, nothing added"

done_testing
