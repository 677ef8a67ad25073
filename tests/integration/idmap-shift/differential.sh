#!/bin/bash
# Differential: fuidshift (LXD's shifter, Debian lxd-tools) and idmap-shift
# on copies of the same tree (ACLs, v2 and v3 capabilities, setuid files,
# hardlinks, symlinks, a fifo, a whiteout). Where they differ, fuidshift is
# the one that loses information: it rewrites every capability as v3 with
# rootid = the new root (a v3 rootid 1000 becomes B, not B+1000), and its
# --reverse then gives a v2 capability back, where idmap-shift gives back
# the original.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-shift/common.sh.inc"

if ! command -v fuidshift >/dev/null; then
	skip "fuidshift differential" "fuidshift not installed (scripts/install-deps installs lxd-tools)"
	done_testing
fi
max=$(awk '$1 == "SUB_UID_MAX" { print $2 }' /etc/login.defs)
B=$(( ${max:-600100000} + 65536 ))
hex() { printf '%02x%02x%02x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
d=$NSKIT_SANDBOX/diff
mktree "$d/src"
# atimes settle before the copies (relatime: the first read moves them)
find "$d/src" -type f -exec cat {} + >/dev/null
find "$d/src" -type l -exec readlink {} + >/dev/null
cp -a "$d/src" "$d/f"
cp -a "$d/src" "$d/i"
orig=$(manifest "$d/i")
is "$(diff <(manifest "$d/f") <(echo "$orig"))" "" "two identical copies"

run fuidshift "$d/f" "b:0:$B:65536"
is "$rc" 0 "fuidshift DIR b:0:B:65536"
run idmap-shift --state-dir "$NSKIT_SANDBOX/state" -m "0:$B:65536" "$d/i"
is "$rc" 0 "idmap-shift -m 0:B:65536 DIR"
is "$(diff <(manifest "$d/f" | grep -v security.capability) <(manifest "$d/i" | grep -v security.capability) | grep '^[<>]' | cut -d' ' -f1-3)" \
	"< . d
> . d" "the same owners, modes, setuid bits, ACLs, xattrs, links and times, but for the top directory:"
is "$(stat -c %Y "$d/i")" "$(grep '^\. ' <<<"$orig" | sed 's/.* m=\([0-9]*\)\..*/\1/')" \
	"... idmap-shift kept its mtime (fuidshift changed it)"
is "$(getcap -n "$d/f/usr/bin/capv3")|$(getcap -n "$d/i/usr/bin/capv3")" \
	"$d/f/usr/bin/capv3 cap_net_admin=ep [rootid=$B]|$d/i/usr/bin/capv3 cap_net_admin=ep [rootid=$((B + 1000))]" \
	"a v3 rootid 1000: fuidshift makes it the new root (lost); idmap-shift shifts it like the owners"
is "$(getcap -n "$d/f/usr/bin/capv2")|$(getcap -n "$d/i/usr/bin/capv2")" \
	"$d/f/usr/bin/capv2 cap_net_raw=ep [rootid=$B]|$d/i/usr/bin/capv2 cap_net_raw=ep" \
	"a v2 capability: fuidshift narrows it to the new root; idmap-shift keeps it"
is "$(getfattr -e hex --only-values -n security.capability "$d/i/usr/bin/capv3" 2>/dev/null | od -An -tx1 | tr -d ' \n' | tail -c 8)" \
	"$(hex $((B + 1000)))" "... (the raw xattr: rootid B+1000, little-endian)"

run fuidshift "$d/f" -r "b:0:$B:65536"
is "$rc" 0 "fuidshift -r"
run idmap-shift --state-dir "$NSKIT_SANDBOX/state" -r -m "0:$B:65536" "$d/i"
is "$rc|$(manifest "$d/i")" "0|$orig" "idmap-shift --reverse: the original metadata, every capability included"
is "$(diff <(echo "$orig") <(manifest "$d/f") | grep '^[<>]' | sed 's/=.*//' | cut -d' ' -f1-3)" \
	"< . d
> . d
< usr/bin/capv3 security.capability
> usr/bin/capv3 security.capability" "fuidshift -r: everything back but the top directory's mtime and the v3 capability"
is "$(getcap -n "$d/f/usr/bin/capv3")" "$d/f/usr/bin/capv3 cap_net_admin=ep" "... which came back as v2: rootid 1000 is lost"

done_testing
