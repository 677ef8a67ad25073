#!/bin/bash
# A mixed pair of helpers: newuidmap takes fd:N (shadow 4.14+, here a
# stand-in), newgidmap only a pid (Debian 12's 4.13), as when only one of
# the two is new. The target ends and its pid is reused while both wait at
# a FIFO: the fd: one then fails (the folder it was given is of an ended
# process), the pid one writes whatever process took the pid. idmap-apply
# must say so, as it does when both take a pid, not that no other process
# was written (see pid-reuse.sh for the pure pairs).
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-apply/gated.sh.inc"

mkuser alice
a=$(id -u alice) ag=$(id -g alice)
asub=$(awk -F: '$1=="alice"{print $2; exit}' /etc/subuid)
gsub=$(awk -F: '$1=="alice"{print $2; exit}' /etc/subgid)
realu=$(command -v newuidmap)
realg=$(command -v newgidmap)
w=$NSKIT_SANDBOX/w
install -d -o alice -m 755 "$w"

gated nu-fd "$realu" fd
gated ng-pid "$realg" pid
userns_proc t alice
exec 7>"$NSKIT_SANDBOX/apply.err"
bg ap as alice env NSKIT_HELPERS=parallel NEWUIDMAP="$w/nu-fd" NEWGIDMAP="$w/ng-pid" \
	idmap-apply -u 0:"$a":1 -u 1:"$asub":100 -g 0:"$ag":1 -g 1:"$gsub":100 "$t" 2>&7
exec 7>&-
wait_until "both helpers wait at their gates" test -e "$w/nu-fd.args" -a -e "$w/ng-pid.args"
like "$(cat "$w/nu-fd.args")" "^fd:[0-9]+ 0 $a 1 1 $asub 100\$" "newuidmap, whose usage offers fd:<pidfd>, is given fd:N"
is "$(cat "$w/ng-pid.args")" "$t 0 $ag 1 1 $gsub 100" "newgidmap, whose usage does not, is given the pid"
reuse "$t" q
if [ "$q" != "$t" ]; then
	status_is 1 "pid $t reused (got $q instead)"
else
	status_is 0 "pid $t now names another process of alice"
	echo go > "$w/nu-fd.gate" &
	echo go > "$w/ng-pid.gate" &
	wait "$ap"
	rc=$?
	is "$rc:$(cat "$NSKIT_SANDBOX/apply.err")" "1:idmap-apply: cannot apply the maps to process $t: process $t ended while newgidmap ran: its pid may name another process now, which may have been given the maps (see /proc/$t/gid_map; a helper that takes fd:N closes this window)" \
		"the mixed pair: the ended target is found after the helpers ran, and the pid-given one is named"
	is "$(kmap "$q" gid)" "0 $ag 1|1 $gsub 100" "(the window the pid-given newgidmap leaves: the new process got the gid map)"
	is "$(kmap "$q" uid)" "" "... and no uid map: the fd:N one wrote no other"
fi
kill -KILL "$q" 2>/dev/null

done_testing
