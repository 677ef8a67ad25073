#!/bin/bash
# nsenter-user --isolate: each namespace gets its own slice of the caller's
# subordinate ids; root in one is nobody in the other; slices are recorded,
# reused, reclaimed; exhaustion is one clear line.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser isa || exit 1
uid=$(id -u isa) gid=$(id -g isa)
sub=$(sed -n "s/^isa:\([0-9]*\):.*/\1/p" /etc/subuid)
subg=$(sed -n "s/^isa:\([0-9]*\):.*/\1/p" /etc/subgid)
is "$(sed -n 's/^isa:[0-9]*:\([0-9]*\)$/\1/p' /etc/subuid):$(sed -n 's/^isa:[0-9]*:\([0-9]*\)$/\1/p' /etc/subgid)" \
	"65536:65536" "the test user has one range of 65536 uids and gids"
dir=$NSKIT_SANDBOX/run/$uid/nskit
sdir=/tmp/nskit-$uid    # the slice records: one place per uid, whatever XDG_RUNTIME_DIR says
shared=$NSKIT_SANDBOX/shared
install -d -m 1777 "$shared"
holder() { sed -n 's/^pid=//p' "$dir/$1"; }
gone() { local i=0; while [ -e "/proc/$1" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done; }
maps() { echo "$(kmap "$1" uid)/$(kmap "$1" gid)"; }

# --- two at the same time -------------------------------------------------------------
bg p1 as isa nsenter-user --isolate=32768 sh -c "touch $shared/ready1; exec sleep 600"
bg p2 as isa nsenter-user --isolate=32768 sh -c "touch $shared/ready2; exec sleep 600"
wait_for "$shared/ready1" && wait_for "$shared/ready2"
a=$(maps "$p1") b=$(maps "$p2")
is "$(printf '%s\n' "$a" "$b" | sort | paste -sd' ')" \
	"0 $sub 32768/0 $subg 32768 0 $((sub + 32768)) 32768/0 $((subg + 32768)) 32768" \
	"two isolated namespaces started together: disjoint slices (uid_map and gid_map)"
unlike "$a $b" "(^| )0 $uid 1|/0 $gid 1" "neither maps the caller's own uid or gid"
is "$(as isa nsenter-user --join "$p1" id -u):$(as isa nsenter-user --join "$p2" id -u)" "0:0" \
	"root inside both"

# A file made by root in one is nobody's in the other.
run as isa nsenter-user --join "$p1" sh -c "echo one > $shared/f"
is "$rc:$(stat -c %u:%g "$shared/f")" "0:$(kmap "$p1" uid | cut -d' ' -f2):$(kmap "$p1" gid | cut -d' ' -f2)" \
	"root in namespace 1 creates a file: on the host it belongs to the first id of slice 1"
run as isa nsenter-user --join "$p2" sh -c "echo two >> $shared/f"
like "$rc:$err" "^[1-9][0-9]*:.*Permission denied" "root in namespace 2 cannot write to it"
is "$(cat "$shared/f")" one "... and the file is unchanged"
run as isa nsenter-user --join "$p2" stat -c %u "$shared/f"
is "$out" "$(cat /proc/sys/kernel/overflowuid)" "namespace 2 sees its owner as the overflow uid"

# The records, and idmap-show naming the owner.
is "$(sed 1d "$sdir/.slices" | sed 's/ start=[0-9]* userns=[0-9]*//' | sort)" "$(printf '%s\n' \
	"uid=$(kmap "$p1" uid | cut -d' ' -f2) gid=$(kmap "$p1" gid | cut -d' ' -f2) count=32768 pid=$p1 pidns=$(stat -L -c %i /proc/$p1/ns/pid) nspid=$p1" \
	"uid=$(kmap "$p2" uid | cut -d' ' -f2) gid=$(kmap "$p2" gid | cut -d' ' -f2) count=32768 pid=$p2 pidns=$(stat -L -c %i /proc/$p2/ns/pid) nspid=$p2" | sort)" \
	"the slices are recorded under the commands' own pids"
is "$(stat -c %a "$sdir/.slices"):$(head -1 "$sdir/.slices")" "600:nskit-slices 1" "the record file is private"
run as isa idmap-show "$p1"
like "$out" "subuid isa, slice of pid $p1" "idmap-show names the process that owns the uid slice"
like "$out" "subgid isa, slice of pid $p1" "... and the gid slice"

# --- reuse after the namespaces end ------------------------------------------------------
kill -KILL "$p1" "$p2"
gone "$p1"
gone "$p2"
run as isa nsenter-user --isolate=32768 cat /proc/self/uid_map /proc/self/gid_map
is "$rc:$(echo $out)" "0:0 $sub 32768 0 $subg 32768" "after they end, the first slice is free again"
run as isa nsenter-user --isolate=32768 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $sub 32768" "... and again: a one-off command's slice ends with it"
run as isa nsenter-user --isolate id -u
is "$rc:$out" "0:0" "--isolate without SIZE: 65536 ids (the whole range here)"

# --- sessions ------------------------------------------------------------------------------
run as isa nsenter-user --keep a --isolate
ha=$(holder a)
is "$rc:$(maps "$ha")" "0:0 $sub 65536/0 $subg 65536" "--keep a --isolate: the session has the slice"
run as isa nsenter-user --list
is "$(echo "$out" | head -1 | tr -s ' ')" "NAME PID UIDMAP GIDMAP AGE STATE SLICE" "--list: a SLICE column"
is "$(echo "$out" | awk '$1 == "a" {print $2, $3, $6, $7}')" "$ha 0:$sub:65536 running $sub-$((sub + 65535))" \
	"--list shows the session's slice"
run as isa nsenter-user --list --json
like "$(echo $out)" "\"name\": \"a\", .*\"slice\": \"$sub-$((sub + 65535))\"" "--list --json shows it too"
run as isa idmap-show "$ha"
like "$out" "subuid isa, slice of session 'a'" "idmap-show names the session that owns the slice"
run as isa nsenter-user --join a sh -c 'cat /proc/self/uid_map; echo $NSKIT_SESSION'
is "$(echo $out)" "0 $sub 65536 a" "--join a enters the isolated session"

# --- exhaustion ------------------------------------------------------------------------------
msg="nsenter-user: no free slice of 65536 ids: 0 of 65536 subordinate uids free, 65536 in use (session 'a': 65536) (run 'subid-alloc --count 131072 isa' as root, or use a smaller --isolate=SIZE)"
expect_fail 1 "$msg" "no free slice: how many free, in use by whom, the fix" as isa nsenter-user --keep b --isolate
is "$([ -e "$dir/b" ]; echo $?)" 1 "... and no session 'b' is left behind"
expect_fail 1 "$msg" "... the same for a one-off command" as isa nsenter-user --isolate true
expect_fail 1 "nsenter-user: no free slice of 100 ids: 0 of 65536 subordinate uids free, 65536 in use (session 'a': 65536) (run 'subid-alloc --count 131072 isa' as root, or use a smaller --isolate=SIZE)" \
	"... for any size" as isa nsenter-user --isolate=100 true
expect_fail 1 "nsenter-user: no free slice of 70000 ids: 0 of 65536 subordinate uids free, 65536 in use (session 'a': 65536) (run 'subid-alloc --count 262144 isa' as root, or use a smaller --isolate=SIZE)" \
	"... a size larger than the range" as isa nsenter-user --isolate=70000 true

# --- a killed holder's slice is reclaimed ------------------------------------------------------
kill -KILL "$ha"
gone "$ha"
run as isa nsenter-user --keep c --isolate
hc=$(holder c)
is "$rc:$(maps "$hc")" "0:0 $sub 65536/0 $subg 65536" "a killed holder's slice goes to the next session"
is "$(grep -c 'session=a' "$sdir/.slices")" 0 "the dead record is gone"
run as isa nsenter-user --list
is "$(echo "$out" | awk '$1 == "a" {print $6, $7} $1 == "c" {print $6, $7}' | paste -sd'|')" \
	"stale -|running $sub-$((sub + 65535))" "--list: the stale session has no slice"
# A record whose pid now names another process (start time differs), and
# whose namespace is gone, is never trusted; but the ids are not free while
# the kernel shows a namespace mapping them (here c's, which that record
# no longer names).
sed -i "s/pid=$hc start=[0-9]* userns=[0-9]*/pid=$hc start=1 userns=1/" "$sdir/.slices"
run as isa nsenter-user --isolate cat /proc/self/uid_map
is "$rc:$err" "1:nsenter-user: no free slice of 65536 ids: 0 of 65536 subordinate uids free, 65536 in use (pid $hc, no record: 65536) (run 'subid-alloc --count 131072 isa' as root, or use a smaller --isolate=SIZE)" \
	"a record with the wrong start time is reclaimed, but c's namespace still holds the slice"
run as isa nsenter-user --stop a
run as isa nsenter-user --stop c
is "$rc:$(cat "$sdir/.slices")" "0:nskit-slices 1" "--stop frees the slice"

# --- -U/-G and refusals ------------------------------------------------------------------------
run as isa nsenter-user --isolate=1000 -U 999 -G 999 sh -c 'id -u; id -g'
is "$rc:$(echo $out)" "0:999 999" "-U/-G inside the slice"
expect_fail 1 "nsenter-user: cannot become uid 1000 inside: the uid map does not map it (see --uid)" \
	"-U outside 0..SIZE-1" as isa nsenter-user --isolate=1000 -U 1000 true
expect_fail 1 "nsenter-user: --isolate makes its own maps: no --auto, --map-root, --keep-id, --uid-map/--gid-map/--map, --map-file or --no-map
Try 'nsenter-user --help' for more information." "--isolate with another map option" as isa nsenter-user --isolate --map-root true
expect_fail 1 "nsenter-user: --join enters existing namespaces: no mapping, namespace or --setgroups options
Try 'nsenter-user --help' for more information." "--isolate with --join" as isa nsenter-user --isolate --join x true
expect_fail 1 "nsenter-user: invalid --isolate size '0': a slice needs at least 1 id" "--isolate=0" \
	as isa nsenter-user --isolate=0 true
expect_fail 1 "nsenter-user: invalid --isolate size 'x': not a decimal number" "--isolate=x" \
	as isa nsenter-user --isolate=x true
sed -i '/^isa:/d' /etc/subuid
expect_fail 1 "nsenter-user: no subordinate uid range for 'isa' in /etc/subuid (run 'subid-alloc isa' as root, or drop --isolate)" \
	"no range at all" as isa nsenter-user --isolate true

done_testing
