#!/bin/bash
# idmap-apply writes the maps of a real process of an unprivileged user;
# every case asserts the kernel's /proc/PID/uid_map and gid_map.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
mkuser bob
a=$(id -u alice)
ag=$(id -g alice)
asub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)
asubg=$(awk -F: '$1=="alice"{print $2}' /etc/subgid)
is "$(grep -c '^alice:' /etc/subuid)" 1 "useradd gave alice one subuid range"

# --auto (the default): alice to 0, then her subordinate range.
userns_proc p alice
run as alice idmap-apply "$p"
is "$rc" 0 "--auto exits 0"
is "$(kmap "$p" uid)" "0 $a 1|1 $asub 65536" "--auto: uid_map is caller to 0 plus the subuid range"
is "$(kmap "$p" gid)" "0 $ag 1|1 $asubg 65536" "--auto: gid_map is caller to 0 plus the subgid range"
is "$(cat /proc/$p/setgroups)" allow "--auto leaves setgroups allowed"

# A user with two ranges gets both, sorted by start, inside ids contiguous.
echo "alice:700000000:1000" >> /etc/subuid
echo "$a:700100000:500" >> /etc/subuid     # a line naming the uid counts too
echo "alice:700000000:1000" >> /etc/subgid
userns_proc p alice
run as alice idmap-apply --auto "$p"
is "$rc" 0 "--auto with three uid ranges exits 0"
is "$(kmap "$p" uid)" "0 $a 1|1 $asub 65536|65537 700000000 1000|66537 700100000 500" \
	"--auto maps every subordinate uid range (by name and by uid)"
is "$(kmap "$p" gid)" "0 $ag 1|1 $asubg 65536|65537 700000000 1000" "--auto maps every subordinate gid range"

# --map-root: only the caller's ids, written directly (setgroups deny, no helper).
userns_proc p alice
run as alice env NEWUIDMAP=/nonexistent NEWGIDMAP=/nonexistent idmap-apply -r "$p"
is "$rc" 0 "--map-root needs no helper"
is "$(kmap "$p" uid)" "0 $a 1" "--map-root: uid_map"
is "$(kmap "$p" gid)" "0 $ag 1" "--map-root: gid_map"
is "$(cat /proc/$p/setgroups)" deny "--map-root: setgroups deny (written before gid_map)"

# --keep-id: alice keeps her uid inside, subordinate ids around it.
userns_proc p alice
run as alice idmap-apply -k "$p"
is "$rc" 0 "--keep-id exits 0"
is "$(kmap "$p" uid)" "0 $asub $a|$a $a 1|$((a + 1)) $((asub + a)) $((65536 - a))|65537 700000000 1000|66537 700100000 500" \
	"--keep-id: uid_map"
is "$(kmap "$p" gid)" "0 $asubg $ag|$ag $ag 1|$((ag + 1)) $((asubg + ag)) $((65536 - ag))|65537 700000000 1000" \
	"--keep-id: gid_map"

# Explicit extents: -u, -g, -m, repeated.
userns_proc p alice
run as alice idmap-apply -u 0:"$a":1 -u 1:"$asub":10 -g 0:"$ag":1 -m 1000:700000000:5 "$p"
is "$rc" 0 "explicit -u/-g/-m exit 0"
is "$(kmap "$p" uid)" "0 $a 1|1 $asub 10|1000 700000000 5" "explicit: uid_map"
is "$(kmap "$p" gid)" "0 $ag 1|1000 700000000 5" "explicit: gid_map"

# --from FILE and --from - (stdin): a map stream.
cat > "$NSKIT_SANDBOX/tmp/map" <<MAP
# a map stream, as idmap-show --map prints it
u 0 $a 1
g 0 $ag 1     # the caller's group
b 1 700000000 1000
MAP
userns_proc p alice
run as alice idmap-apply --from "$NSKIT_SANDBOX/tmp/map" "$p"
is "$rc" 0 "--from FILE exits 0"
is "$(kmap "$p" uid)|$(kmap "$p" gid)" "0 $a 1|1 700000000 1000|0 $ag 1|1 700000000 1000" "--from FILE: both maps"
userns_proc p alice
run as alice idmap-apply -f - "$p" < "$NSKIT_SANDBOX/tmp/map"
is "$rc" 0 "--from - exits 0"
is "$(kmap "$p" uid)|$(kmap "$p" gid)" "0 $a 1|1 700000000 1000|0 $ag 1|1 700000000 1000" "--from stdin: both maps"

# --dry-run: prints the maps and how they would be written; writes nothing.
userns_proc p alice
run as alice idmap-apply -n "$p"
is "$rc" 0 "--dry-run exits 0"
is "$out" "# /proc/$p/uid_map: /usr/bin/newuidmap
# /proc/$p/gid_map: /usr/bin/newgidmap
u 0 $a 1
u 1 $asub 65536
u 65537 700000000 1000
u 66537 700100000 500
g 0 $ag 1
g 1 $asubg 65536
g 65537 700000000 1000" "--dry-run prints the plan and the map stream"
is "$(cat /proc/$p/uid_map)" "" "--dry-run wrote no uid_map"
run as alice idmap-apply -n -r "$p"
is "$out" "# /proc/$p/uid_map: direct write
# /proc/$p/setgroups: deny
# /proc/$p/gid_map: direct write
b 0 $a 1" "--dry-run --map-root: direct writes"
# The dry-run output is a map stream idmap-apply takes back.
run as alice sh -c "idmap-apply -n $p | idmap-apply --from - $p"
is "$rc" 0 "dry-run output piped into --from exits 0"
is "$(kmap "$p" uid)" "0 $a 1|1 $asub 65536|65537 700000000 1000|66537 700100000 500" "piped map stream applied"

# --setgroups deny with helpers.
userns_proc p alice
run as alice idmap-apply --setgroups deny "$p"; [ "$rc" = 0 ] || diag "$err" "$(ps -o pid,user,args -p $p)"
is "$rc" 0 "--setgroups deny exits 0"
is "$(cat /proc/$p/setgroups)" deny "--setgroups deny is written"
is "$(kmap "$p" gid)" "0 $ag 1|1 $asubg 65536|65537 700000000 1000" "gid map written after setgroups deny"

# Root maps anything directly, no helper involved.
bg p unshare --user sleep 600
wait_until "pid $p in a new user namespace" in_new_userns "$p"
run env NEWUIDMAP=/nonexistent NEWGIDMAP=/nonexistent idmap-apply -m 0:5000000:100 -m 100:0:1 "$p"
is "$rc" 0 "root: direct write of any map"
is "$(kmap "$p" uid)" "0 5000000 100|100 0 1" "root: uid_map"

# A nested namespace: root in alice's namespace maps a child with ids of its own map.
userns_proc p alice
as alice idmap-apply "$p"
run as alice nsenter --user --target "$p" --preserve-credentials -- sh -c '
	inns() { [ "$(readlink /proc/$1/ns/user)" != "$(readlink /proc/self/ns/user)" ] && [ "$(cat /proc/$1/comm)" = sleep ]; }
	unshare --user sleep 600 & c=$!
	until inns $c; do sleep 0.01; done
	idmap-apply -m 0:10:5 $c; echo "rc=$?"
	cat /proc/$c/uid_map | tr -s " " | sed "s/^ //"
	kill $c
	unshare --user sleep 600 & c=$!
	until inns $c; do sleep 0.01; done
	idmap-apply -m 0:65530:20 $c 2>&1
	idmap-apply -m 0:70000:5 $c 2>&1
	kill $c'
like "$out" "rc=0" "nested: root inside maps a child namespace"
like "$out" "0 10 5" "nested: child's uid_map written"
like "$out" "idmap-apply: cannot map uid range 65530-65549: it spans more than one extent of this namespace's uid_map \\(split it at the extent boundaries\\)" \
	"nested: an extent over two parent extents is refused"
like "$out" "idmap-apply: cannot map uid range 70000-70004: not mapped in this user namespace \\(see /proc/self/uid_map\\)" \
	"nested: ids the parent does not map are refused"

done_testing
