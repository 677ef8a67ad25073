#!/bin/bash
# --isolate with a user that has two ranges: slices come from both, in order
# of start; uid and gid slices are picked from their own ranges.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser isr || exit 1
uid=$(id -u isr)
sub=$(sed -n "s/^isr:\([0-9]*\):.*/\1/p" /etc/subuid)
subg=$(sed -n "s/^isr:\([0-9]*\):.*/\1/p" /etc/subgid)
usermod --add-subuids 1000000-1065535 --add-subgids 2000000-2065535 isr
dir=$NSKIT_SANDBOX/run/$uid/nskit
holder() { sed -n 's/^pid=//p' "$dir/$1"; }

run as isr nsenter-user --keep a --isolate true
run as isr nsenter-user --keep b --isolate true
ha=$(holder a) hb=$(holder b)
is "$(kmap "$ha" uid)/$(kmap "$ha" gid)" "0 $sub 65536/0 $subg 65536" "the first slice: the first range"
is "$(kmap "$hb" uid)/$(kmap "$hb" gid)" "0 1000000 65536/0 2000000 65536" "the second slice: the second range"
run as isr nsenter-user --list
is "$(echo "$out" | awk 'NR > 1 {print $1, $7}' | paste -sd'|')" \
	"a $sub-$((sub + 65535))|b 1000000-1065535/2000000-2065535" "--list: uid/gid slices when they differ"
run as isr idmap-show "$hb"
like "$out" "subgid isr, slice of session 'b'" "idmap-show names session 'b' for its gids"
expect_fail 1 "nsenter-user: no free slice of 65536 ids: 0 of 131072 subordinate uids free, 131072 in use (session 'a': 65536, session 'b': 65536) (run 'subid-alloc --count 262144 isr' as root, or use a smaller --isolate=SIZE)" \
	"exhausted across both ranges" as isr nsenter-user --isolate true
run as isr nsenter-user --stop a
run as isr nsenter-user --isolate=1000 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $sub 1000" "a slice freed in the first range is used first"
# A slice never straddles two ranges, even when both have room side by side.
# (sed: usermod refuses while the session's holder runs as isr.)
sed -i '/^isr:1000000:/d' /etc/subuid
sed -i '/^isr:2000000:/d' /etc/subgid
echo "isr:$((sub + 65536)):1000" >> /etc/subuid
echo "isr:$((subg + 65536)):1000" >> /etc/subgid
run as isr nsenter-user --stop b
run as isr nsenter-user --keep c --isolate=65536 true
run as isr nsenter-user --isolate=1000 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $((sub + 65536)) 1000" "a small range next to a full one gives its own slice"
expect_fail 1 "nsenter-user: no free slice of 2000 ids: 1000 of 66536 subordinate uids free, 65536 in use (session 'c': 65536) (run 'subid-alloc --count 131072 isr' as root, or use a smaller --isolate=SIZE)" \
	"free ids that do not make a slice of SIZE: still none" as isr nsenter-user --isolate=2000 true
run as isr nsenter-user --stop c

done_testing
