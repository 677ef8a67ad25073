#!/bin/bash
# Every bad input gets one clear line and exit 1, and nothing is written.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
mkuser bob
mkuser carol
sed -i '/^carol:/d' /etc/subuid /etc/subgid     # carol has no subordinate ids
a=$(id -u alice)
asub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)
acnt=$(awk -F: '$1=="alice"{print $3}' /etc/subuid)
# A user who has ranges is told which (subid-alloc would change nothing).
aranges="alice's ranges: $asub-$((asub + acnt - 1))"
userns_proc p alice
pfx="idmap-apply:"

nothing_written() { # DESC
	is "$(cat /proc/$p/uid_map)|$(cat /proc/$p/gid_map)" "|" "$1: nothing written"
}

# Usage errors.
expect_fail 1 "$pfx no PID given
Try 'idmap-apply --help' for more information." "no PID" as alice idmap-apply
expect_fail 1 "$pfx too many arguments: only one PID
Try 'idmap-apply --help' for more information." "two PIDs" as alice idmap-apply "$p" "$p"
expect_fail 1 "$pfx --auto, --map-root, --keep-id, --uid/--gid/--map and --from are mutually exclusive
Try 'idmap-apply --help' for more information." "conflicting modes" as alice idmap-apply -r -k "$p"
expect_fail 1 "$pfx invalid --setgroups 'maybe': use allow or deny
Try 'idmap-apply --help' for more information." "bad --setgroups" as alice idmap-apply --setgroups maybe "$p"
expect_fail 1 "idmap-apply: unrecognized option '--bogus'
Try 'idmap-apply --help' for more information." "unknown option" as alice idmap-apply --bogus "$p"
run as alice idmap-apply --help
is "$rc" 0 "--help exits 0"
like "$out" "^Usage:" "--help starts with Usage"
like "$out" "For more details see idmap-apply\(1\)\.$" "--help names the man page"
run as alice idmap-apply -V
is "$out|$rc" "idmap-apply from nskit $(cat "$NSKIT_TOP/VERSION")|0" "--version"

# Bad numbers and specs.
expect_fail 1 "$pfx invalid pid 'abc': not a decimal number" "non-numeric pid" as alice idmap-apply abc
expect_fail 1 "$pfx invalid pid '-5': not a decimal number" "negative pid" as alice idmap-apply -- -5
expect_fail 1 "$pfx invalid pid '99999999999': out of range" "overflowing pid" as alice idmap-apply 99999999999
expect_fail 1 "$pfx invalid map '0:x:1': invalid outside id 'x'" "non-numeric spec" \
	as alice idmap-apply -m 0:x:1 "$p"
expect_fail 1 "$pfx invalid map '0:1000': expected INNER:OUTER:COUNT" "short spec" \
	as alice idmap-apply -m 0:1000 "$p"
expect_fail 1 "$pfx invalid map '0:4294967296:1': outside id '4294967296' is out of range (at most 4294967294)" \
	"overflowing spec" as alice idmap-apply -u 0:4294967296:1 -g 0:1:1 "$p"
expect_fail 1 "$pfx uid extent 1 (4294967290:$asub:10): inside range 4294967290-4294967299 goes past 4294967294" \
	"range past the last id" as alice idmap-apply -m 4294967290:"$asub":10 "$p"
expect_fail 1 "$pfx uid extent 1 (0:$asub:0): count is 0" "count 0" as alice idmap-apply -m 0:"$asub":0 "$p"
expect_fail 1 "$pfx uid extents 1 (0:$asub:10) and 2 (5:$((asub + 100)):10) overlap inside (ids 5-9)" \
	"overlapping inside ranges" as alice idmap-apply -m 0:"$asub":10 -m 5:$((asub + 100)):10 "$p"
expect_fail 1 "$pfx uid extents 1 (0:$asub:10) and 2 (100:$((asub + 5)):10) overlap outside (ids $((asub + 5))-$((asub + 9)))" \
	"overlapping outside ranges" as alice idmap-apply -m 0:"$asub":10 -m 100:$((asub + 5)):10 "$p"
args=()
for i in $(seq 0 340); do args+=(-m "$i:$((asub + i)):1"); done
expect_fail 1 "$pfx the uid map has 341 extents; the kernel takes at most 340" "too many extents" \
	as alice idmap-apply "${args[@]}" "$p"
expect_fail 1 "$pfx the gid map is empty (give --gid or --map)" "no gid extent" \
	as alice idmap-apply -u 0:"$a":1 "$p"
printf 'u 0 %s 1\nz 1 2 3\n' "$a" > "$NSKIT_SANDBOX/tmp/bad.map"
expect_fail 1 "$pfx $NSKIT_SANDBOX/tmp/bad.map:2: expected 'u', 'g' or 'b' and INSIDE OUTSIDE COUNT" \
	"bad map stream line" as alice idmap-apply --from "$NSKIT_SANDBOX/tmp/bad.map" "$p"
expect_fail 1 "$pfx cannot open map file '/nonexistent.map': No such file or directory" "missing map file" \
	as alice idmap-apply --from /nonexistent.map "$p"
nothing_written "after bad specs"

# Ranges the caller may not map.
expect_fail 1 "$pfx cannot map uid range 5000000-5000009: not in /etc/subuid for 'alice' ($aranges)" \
	"range not delegated" as alice idmap-apply -m 0:"$a":1 -m 1:5000000:10 "$p"
bsub=$(awk -F: '$1=="bob"{print $2}' /etc/subuid)
expect_fail 1 "$pfx cannot map uid range $bsub-$((bsub + 99)): not in /etc/subuid for 'alice' ($aranges)" \
	"another user's range" as alice idmap-apply -u 0:"$a":1 -u 1:"$bsub":100 -g 0:"$a":1 "$p"
expect_fail 1 "$pfx cannot map uid range $((asub + 65530))-$((asub + 65539)): not in /etc/subuid for 'alice' ($aranges)" \
	"range running past the end of the subordinate range" as alice idmap-apply -m 1:$((asub + 65530)):10 -m 0:"$a":1 "$p"
expect_fail 1 "$pfx cannot map uid range 0: not in /etc/subuid for 'alice' ($aranges)" \
	"host root" as alice idmap-apply -m 0:0:1 "$p"
expect_fail 1 "$pfx cannot map uid range $a-$((a + 1)): your own uid $a may only be mapped alone (an extent with count 1)" \
	"own uid inside a larger extent" as alice idmap-apply -m 0:"$a":2 "$p"
userns_proc pc carol
c=$(id -u carol)
expect_fail 1 "$pfx cannot map uid range $asub-$((asub + 9)): not in /etc/subuid for 'carol' (run 'subid-alloc carol' as root)" \
	"a range for a user with none: the subid-alloc fix" as carol idmap-apply -m 0:"$c":1 -m 1:"$asub":10 "$pc"
expect_fail 1 "$pfx no subordinate uid range for 'carol' in /etc/subuid (run 'subid-alloc carol' as root, or use --map-root)" \
	"no subordinate ids, --auto" as carol idmap-apply "$pc"
expect_fail 1 "$pfx no subordinate uid range for 'carol' in /etc/subuid (run 'subid-alloc carol' as root, or use --map-root)" \
	"no subordinate ids, --keep-id" as carol idmap-apply -k "$pc"
run as carol idmap-apply -r "$pc"
is "$rc|$(kmap "$pc" uid)" "0|0 $(id -u carol) 1" "no subordinate ids: --map-root still works"
nothing_written "after refused ranges"

# Processes that are not ours or not in a fresh namespace.
expect_fail 1 "$pfx no process with pid 2147483647" "a pid that does not exist" as alice idmap-apply 2147483647
userns_proc pb bob
expect_fail 1 "$pfx process $pb belongs to uid $(id -u bob), not to you (uid $a)" "another user's process" \
	as alice idmap-apply "$pb"
expect_fail 1 "$pfx process 1 belongs to uid 0, not to you (uid $a)" "root's process" as alice idmap-apply 1
bg ps as alice sleep 600
wait_until "pid $ps runs sleep" sh -c '[ "$(cat /proc/$1/comm)" = sleep ] && [ "$(stat -c %u /proc/$1)" != 0 ]' _ "$ps"
expect_fail 1 "$pfx process $ps is in this user namespace, not in a new one (nothing to map)" \
	"a process in our own namespace" as alice idmap-apply -r "$ps"
as alice idmap-apply -r "$p"
expect_fail 1 "$pfx process $p already has a uid map (a map can be written only once)" "map already written" \
	as alice idmap-apply -r "$p"

# Helpers missing or unable to do their job: the message says why.
userns_proc p alice
expect_fail 1 "$pfx newuidmap '/nonexistent/newuidmap' (from \$NEWUIDMAP) cannot be run: No such file or directory" \
	"missing helper" as alice env NEWUIDMAP=/nonexistent/newuidmap idmap-apply "$p"
install -D -m 0755 /usr/bin/newuidmap "$NSKIT_SANDBOX/nosuid/newuidmap"
run as alice env NEWUIDMAP="$NSKIT_SANDBOX/nosuid/newuidmap" idmap-apply "$p"
is "$rc" 1 "helper without setuid: exit 1"
is "$err" "$pfx cannot apply the maps to process $p: newuidmap failed: newuidmap: write to uid_map failed: Operation not permitted ($NSKIT_SANDBOX/nosuid/newuidmap is neither setuid root nor has the file capability cap_setuid (owner 0, mode 0755); as root: 'chmod u+s $NSKIT_SANDBOX/nosuid/newuidmap' (owner root) or 'setcap cap_setuid+ep $NSKIT_SANDBOX/nosuid/newuidmap', or reinstall it)" \
	"helper without setuid: the message explains it"
userns_proc p alice
run as alice setpriv --no-new-privs idmap-apply "$p"
is "$rc" 1 "no_new_privs: exit 1"
like "$err" "^$pfx cannot apply the maps to process $p: newuidmap failed: newuidmap: write to uid_map failed: Operation not permitted \(no_new_privs is set for this process, so the kernel ignores the setuid bit and file capabilities of /usr/bin/newuidmap; run it from a context without no_new_privs\)$" \
	"no_new_privs: the message explains it"
nothing_written "after helper failures"

done_testing
