#!/bin/bash
# idmap-apply --isolate PID: a slice for a process that made its own user
# namespace; recorded under PID, freed when it ends; --dry-run records nothing.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser isp || exit 1
uid=$(id -u isp) gid=$(id -g isp)
sub=$(sed -n "s/^isp:\([0-9]*\):.*/\1/p" /etc/subuid)
subg=$(sed -n "s/^isp:\([0-9]*\):.*/\1/p" /etc/subgid)
dir=$NSKIT_SANDBOX/run/$uid/nskit
sdir=/tmp/nskit-$uid    # the slice records: one place per uid, whatever XDG_RUNTIME_DIR says

userns_proc p isp
run as isp idmap-apply --isolate=4096 "$p"
is "$rc:$out:$err" "0::" "idmap-apply --isolate=4096 PID"
is "$(kmap "$p" uid)/$(kmap "$p" gid)" "0 $sub 4096/0 $subg 4096" "PID's maps: 0..4095 onto the first slice"
like "$(sed 1d "$sdir/.slices")" "^uid=$sub gid=$subg count=4096 pid=$p start=$(cut -d')' -f2 /proc/$p/stat | awk '{print $20}') userns=$(stat -L -c %i /proc/$p/ns/user) pidns=$(stat -L -c %i /proc/$p/ns/pid) nspid=$p\$" \
	"the record names PID, its start time, its user namespace, its pid namespace and its pid there"
userns_proc q isp
run as isp idmap-apply --isolate=4096 "$q"
is "$rc:$(kmap "$q" uid)/$(kmap "$q" gid)" "0:0 $((sub + 4096)) 4096/0 $((subg + 4096)) 4096" "a second process: the next slice"
run as isp idmap-show "$q"
like "$out" "subuid isp, slice of pid $q" "idmap-show names the process"
# nsenter-user shares the records: it gets the next slice.
run as isp nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $((sub + 8192)) 4096" "nsenter-user --isolate sees idmap-apply's slices"

userns_proc r isp
run as isp idmap-apply --isolate=4096 --dry-run "$r"
is "$rc:$(echo "$out" | grep -v '^#' | paste -sd'|')" "0:b 0 $((sub + 8192)) 4096" \
	"--dry-run prints the slice it would take"
is "$(grep -c '^uid=' "$sdir/.slices")" 2 "... and records nothing"

kill -KILL "$p"
i=0; while [ -e "/proc/$p" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
run as isp idmap-apply --isolate=4096 "$r"
is "$rc:$(kmap "$r" uid)" "0:0 $sub 4096" "the slice of a process that ended is reused"

userns_proc s isp
expect_fail 1 "idmap-apply: no free slice of 65536 ids: 57344 of 65536 subordinate uids free, 8192 in use (pid $r: 4096, pid $q: 4096) (run 'subid-alloc --count 131072 isp' as root, or use a smaller --isolate=SIZE)" \
	"exhaustion" as isp idmap-apply --isolate "$s"
expect_fail 1 "idmap-apply: process $q already has a uid map (a map can be written only once)" \
	"a process with a map: refused, and nothing recorded" as isp idmap-apply --isolate=10 "$q"
is "$(grep -c '^uid=' "$sdir/.slices")" 2 "... still two records"
expect_fail 1 "idmap-apply: --isolate makes its own maps: no --auto, --map-root, --keep-id, --uid/--gid/--map or --from
Try 'idmap-apply --help' for more information." "--isolate with --map-root" as isp idmap-apply --isolate --map-root "$s"

done_testing
