#!/bin/bash
# A directory renamed during the run, after it was done, to a name the
# listing of its parent has not reached yet, is not walked a second time
# (review of the by-name change, attack A1/A4). The second visit let a
# folder only root could write to be handed to the user (its own chown at
# the end of the second visit) while the first visit still changed its
# files by name, and counted the names of a hardlink twice.
# Held at a fixed point: the worker listing alice's folder P is held at
# the chown of P's file F, alice's (killat.so, fchownat-file,
# NSKIT_PAUSE_UID) while the other
# worker does D (listed before F). Then alice, as the id P was given,
# renames D to a name P's listing returns later (ext4 lists by name hash:
# the name is picked by asking ls -U).
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-shift/common.sh.inc"

mkuser alice || exit 1
au=$(id -u alice) ag=$(id -g alice)
FS=$NSKIT_SANDBOX/fs
private_fs "$FS" 256M
chmod 0755 "$FS"
T=$FS/tree P=$FS/tree/p O=$FS/outside st=$NSKIT_SANDBOX/state
mkdir -p "$P" "$O"
chmod 0755 "$T" "$O"

# P holds 20,000 symlinks, so that its listing takes many getdents
# calls. Names in P's listing order: D's, then F, among the first; the
# new name L among the last (in a part of the listing not read yet).
perl -e 'for my $i (1 .. 20000) { symlink("x", sprintf("%s/s%05d", $ARGV[0], $i)) or die "$!" }' "$P"
for i in $(seq 0 199); do touch "$P/c$i"; done
order=$(ls -U "$P" | grep '^c')
rm -f "$P"/c*
E=$(sed -n 1p <<<"$order") F=$(sed -n 2p <<<"$order") L=$(tail -n 1 <<<"$order")
mkdir "$P/$E"
echo inside > "$P/$E/f0"
echo mine > "$P/$F"
# X: a root file outside the tree, with a name in a folder of alice's in
# the tree (H/x). Counted once, it is left as it is.
mkdir "$P/$E/h"
echo outside > "$O/x"
chmod 0666 "$O/x"
ln "$O/x" "$P/$E/h/x"
chown -R alice: "$P"
chown 0:0 "$P/$E" "$P/$E/f0" "$O/x"
chmod 0755 "$P/$E"
is "$(ls -U "$P" | grep -v '^s' | paste -sd' ')" "$E $F" "the listing order the test builds on (D, then F)"

NSKIT_PAUSE_UID=$au held fchownat-file idmap-shift --state-dir "$st" -j 2 -m "0:$B:65536" "$T"
d_done() { [ "$(own "$P/$E")" = "$B:$B" ]; }
wait_until "the other worker has done D" d_done
setpriv --reuid=$((B + au)) --regid=$((B + ag)) --clear-groups mv "$P/$E" "$P/$L"
is "$?|$(ls -U "$P" | grep -v '^s' | paste -sd' ')" "0|$F $L" "alice renames D, once done, to a name listed after F"
resume
is "$rc|$err" "0|idmap-shift: '$P/$E/h/x': 1 of its 2 names are outside the tree: left as it is (--outside-links shift shifts it)" \
	"the run ends: D is not walked again (its hardlink counted once)"
is "$(own "$P/$L")|$(own "$P/$L/f0")|$(own "$P/$F")|$(own "$P")" "$B:$B|$B:$B|$((B + au)):$((B + ag))|$((B + au)):$((B + ag))" \
	"... every owner shifted once"
is "$(own "$O/x")" "0:0" "... the file with a name outside the tree left as it is"

done_testing
