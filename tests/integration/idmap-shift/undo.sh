#!/bin/bash
# The default (--unmapped fail) walks the tree once: it shifts, and at the
# first id outside --from it stops and shifts back what it changed, so that
# nothing is changed and the refusal names the offenders. Setuid and setgid
# files and files with a capability are held until the walk found every id
# inside --from: the undo never has to give back a bit a chown cleared.
# Beyond what may be held, or where the file system keeps no birth time, it
# scans first, then shifts.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-shift/common.sh.inc"

st=$NSKIT_SANDBOX/state
t=$NSKIT_SANDBOX/tree
mktree "$t"
# Enough files that the walk changes many before it meets the offender,
# which sits in the last folder of the listing order and of the depth.
for d in $(seq 1 20); do
	mkdir -p "$t/many/d$d"
	(cd "$t/many/d$d" && touch $(seq -f 'f%g' 1 100))
done
mkdir -p "$t/zz/deep/er"
echo x > "$t/zz/deep/er/stranger"
chown 70000:70000 "$t/zz/deep/er/stranger"
before=$(manifest "$t")

for j in 1 2; do
	run idmap-shift --state-dir "$st" --no-progress -j $j -m "0:$B:65536" "$t"
	is "$rc|$err" "1|idmap-shift: '$t/zz/deep/er/stranger': owner uid 70000 is outside --from
idmap-shift: '$t/zz/deep/er/stranger': group gid 70000 is outside --from
idmap-shift: nothing changed: 2 ids in '$t' outside --from (use --unmapped keep or overflow, or a --from that maps them)" \
		"-j $j: an owner outside --from: refused, naming it"
	is "$(manifest "$t")" "$before" "... every owner, mode, ACL, capability and xattr as before (the shift was undone)"
	is "$(ls -A "$st" 2>/dev/null | wc -l)" 0 "... and no journal is left"
done

# An owner that leaves --from while the run is under way (at its first
# chown: the walk has begun, the offender's folder not reached yet). A
# file made meanwhile is not part of the tree the run shifts: left as made.
mkdir -p "$NSKIT_SANDBOX/pause"
p=$NSKIT_SANDBOX/pause
mkfifo "$p/paused" "$p/go"
chown 0:0 "$t/zz/deep/er/stranger"
before=$(manifest "$t")
env NSKIT_PAUSEAT=fchownat NSKIT_PAUSE_DIR="$p" LD_PRELOAD="$H/killat.so" ASAN_OPTIONS="$asan" \
	idmap-shift --state-dir "$st" --no-progress -j 1 -m "0:$B:65536" "$t" > /dev/null 2> "$NSKIT_SANDBOX/err" &
shifter=$!
read -r _ < "$p/paused"
chown 80000 "$t/zz/deep/er/stranger"
echo late > "$t/zz/deep/er/late"
: > "$p/go"
wait "$shifter"
rc=$?
is "$rc|$(cat "$NSKIT_SANDBOX/err")" "1|idmap-shift: '$t/zz/deep/er/stranger': owner uid 80000 is outside --from
idmap-shift: nothing changed: 1 id in '$t' outside --from (use --unmapped keep or overflow, or a --from that maps them)" \
	"an owner outside --from since the walk began: refused, naming it"
is "$(manifest "$t" | grep -v '^./zz/deep/er[ /]')" "$(grep -v '^./zz/deep/er[ /]' <<<"$before")" \
	"... and nothing else changed"
is "$(stat -c %u:%g "$t/zz/deep/er/late")" 0:0 "... the file made during the run left as made"
rm "$t/zz/deep/er/late"
chown 0:0 "$t/zz/deep/er/stranger"
before=$(manifest "$t")

# With every id inside --from: one walk, and the tree shifted.
run idmap-shift --state-dir "$st" --no-progress -m "0:$B:65536" "$t"
is "$rc|$err|$(stat -c '%u %a' "$t/usr/bin/suid")|$(getcap "$t/usr/bin/suidcap")" \
	"0||$B 4755|$t/usr/bin/suidcap cap_net_bind_service=ep" "every id inside --from: shifted, setuid bit and capability kept"
run idmap-shift --state-dir "$st" --no-progress -r -m "0:$B:65536" "$t"
is "$(manifest "$t")" "$before" "... and back"

# More setuid files than may be held (4096): a scan first, then the shift;
# an offender then changes nothing either.
s=$NSKIT_SANDBOX/suid
mkdir -p "$s/a"
(cd "$s/a" && touch $(seq -f 's%g' 1 4200) && chmod 4755 s*)
echo y > "$s/zz"
chown 70000 "$s/zz"
before=$(manifest "$s")
run idmap-shift --state-dir "$st" --no-progress -m "0:$B:65536" "$s"
is "$rc|$(tail -n 1 <<<"$err")|$(manifest "$s" | cmp -s - <(echo "$before") && echo same)" \
	"1|idmap-shift: nothing changed: 1 id in '$s' outside --from (use --unmapped keep or overflow, or a --from that maps them)|same" \
	"4200 setuid files and an offender: refused, nothing changed"
chown 0 "$s/zz"
run idmap-shift --state-dir "$st" --no-progress -m "0:$B:65536" "$s"
is "$rc|$err|$(find "$s/a" -perm -4000 -uid "$B" | wc -l)" "0||4200" "... without it: all 4200 shifted, setuid bits kept"

# What the user does to a file while she holds it (it was shifted to her
# namespace's root, the walk goes on, and then meets an offender): the
# undo puts back its owner, group and mode as they were (a chown among her
# namespace's ids, mapped back, would make the file her host uid's), removes
# an ACL added meanwhile (shifted back, its ids would be hers on the host),
# and says so; what she wrote stays (reviews A2, X1). Held with killat.so at the chown of the file
# owned by uid 7, which comes after the top's own files.
mkuser alice || exit 1
au=$(id -u alice)
w=$NSKIT_SANDBOX/window
mkdir -p "$w/z/deep"
echo "root only" > "$w/secret"
chmod 0600 "$w/secret"
echo seven > "$w/z/f7"
echo off > "$w/z/deep/off"
chown -R 0:0 "$w"
chown 7 "$w/z/f7"
chown 70000 "$w/z/deep/off"
chmod 0755 "$NSKIT_SANDBOX" "$w" "$w/z" "$w/z/deep"
NSKIT_PAUSE_UID=7 held fchownat-file idmap-shift --state-dir "$st" --no-progress -j 1 -m "0:$B:65536" "$w"
is "$(stat -c '%u:%g %a' "$w/secret")" "$B:$B 600" "held: the top's file is shifted, the walk goes on"
as_nsroot sh -c "chown $au:$au '$w/secret' && chmod 0666 '$w/secret' && echo 'alice was here' >> '$w/secret' &&
	setfacl -m u:$au:rw '$w/secret'"
is "$?|$(stat -c '%u:%g %a' "$w/secret")" "0|$((B + au)):$((B + au)) 666" \
	"... and its new owner, her namespace's root, gives it to her namespace's $au, makes it 0666, writes to it, adds an ACL entry"
resume
is "$rc|$(grep -c "^idmap-shift: '$w/secret' was changed while this run had it shifted: its owner, group and mode are put back, an ACL added meanwhile removed; what was written to it stays\$" <<<"$err")|$(tail -n 1 <<<"$err")" \
	"1|1|idmap-shift: nothing changed: 1 id in '$w' outside --from (use --unmapped keep or overflow, or a --from that maps them)" \
	"an offender then: refused, and the file she changed named"
is "$(stat -c '%u:%g %a' "$w/secret")|$(getfacl -cn "$w/secret" 2>/dev/null | grep -cE '^(user|group):[0-9]')" "0:0 600|0" \
	"... its owner (0, not her host uid $au), group and mode put back, her ACL entry gone (not made $au's)"
run setpriv --reuid="$au" --regid="$au" --clear-groups cat "$w/secret"
is "$rc" 1 "... alice cannot read it on the host"
is "$(cat "$w/secret")" "root only
alice was here" "... what she wrote stays (said)"

# The undo itself, held at its chown of that file back (the first chown of
# a file of B's: killat.so, NSKIT_PAUSE_UID), while she is still its
# owner: she makes it 0666 and adds an ACL entry right before. The undo
# chowns first, then reads the mode and ACLs it puts back (review X5).
w=$NSKIT_SANDBOX/window2
mkdir -p "$w/z/deep"
echo "root only" > "$w/secret"
chmod 0600 "$w/secret"
echo off > "$w/z/deep/off"
chown -R 0:0 "$w"
chown 70000 "$w/z/deep/off"
chmod 0755 "$w" "$w/z" "$w/z/deep"
NSKIT_PAUSE_UID=$B held fchownat-file idmap-shift --state-dir "$st" --no-progress -j 1 -m "0:$B:65536" "$w"
as_nsroot sh -c "chmod 0666 '$w/secret' && setfacl -m u:$au:rw '$w/secret'"
is "$?|$(stat -c '%u:%g %a' "$w/secret")" "0|$B:$B 666" "the undo held at the chown back of a shifted file: she makes it 0666, adds an ACL entry"
resume
is "$rc|$(stat -c '%u:%g %a' "$w/secret")|$(getfacl -cn "$w/secret" 2>/dev/null | grep -cE '^(user|group):[0-9]')" "1|0:0 600|0" \
	"... the undo ends with its owner, mode and no ACL as before"
is "$(grep -c "^idmap-shift: '$w/secret' was changed while this run had it shifted" <<<"$err")" 1 "... and names it"

done_testing
