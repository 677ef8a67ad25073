#!/bin/bash
# A mixed pair of helpers: newuidmap takes fd:N (shadow 4.14+, here a
# stand-in), newgidmap only a pid (Debian 12's 4.13), as when only one of
# the two is new. The target ends and its pid is reused while both wait at
# a FIFO: the fd: one then fails (the folder it was given is of an ended
# process), the pid one writes whatever process took the pid. idmap-apply
# must say so, as it does when both take a pid, not that no other process
# was written (see pid-reuse.sh for the pure pairs).
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
a=$(id -u alice) ag=$(id -g alice)
asub=$(awk -F: '$1=="alice"{print $2; exit}' /etc/subuid)
gsub=$(awk -F: '$1=="alice"{print $2; exit}' /etc/subgid)
realu=$(command -v newuidmap)
realg=$(command -v newgidmap)
w=$NSKIT_SANDBOX/w
install -d -o alice -m 755 "$w"

# gated NAME REAL MODE: $w/NAME wraps REAL: records its arguments in
# $w/NAME.args, waits for a line on $w/NAME.gate. MODE fd: its usage offers
# fd:<pidfd> and, given fd:N, it finds the target through folder fd N (as
# shadow 4.14 does); MODE pid: the real helper's usage (no fd:).
gated() {
	local name=$1 real=$2 mode=$3
	mkfifo "$w/$name.gate"
	chown alice "$w/$name.gate"
	{
		echo '#!/bin/sh'
		if [ "$mode" = fd ]; then
			echo "if [ \$# -eq 0 ]; then echo \"usage: $name [<pid>|fd:<pidfd>] <id> <lowerid> <count> ...\" >&2; exit 1; fi"
		else
			echo "if [ \$# -eq 0 ]; then exec $real; fi"
		fi
		echo "echo \"\$*\" > $w/$name.args"
		echo "read go < $w/$name.gate"
		if [ "$mode" = fd ]; then
			echo "case \$1 in fd:*) n=\${1#fd:} ;; *) echo \"$name: not given fd:N\" >&2; exit 1 ;; esac"
			echo "stat=\$(cat /proc/self/fd/\$n/stat 2>/dev/null) || { echo \"$name: Could not open proc directory for target process\" >&2; exit 1; }"
			echo 'shift'
			echo "exec $real \"\${stat%% *}\" \"\$@\""
		else
			echo "exec $real \"\$@\""
		fi
	} > "$w/$name"
	chmod 755 "$w/$name"
}

# reuse PID VAR: kill and reap PID, start another process of alice in a user
# namespace of its own under the same pid; $VAR is its pid.
reuse() {
	local old=$1 new i=0
	as_argv alice
	kill -KILL "$old"
	wait "$old" 2>/dev/null
	echo $((old - 1)) > /proc/sys/kernel/ns_last_pid
	"${AS[@]}" unshare --user sleep 600 &
	new=$!
	_tap_bg_pids="$_tap_bg_pids $new"
	while ! in_new_userns "$new"; do
		i=$((i + 1))
		[ $i -gt 1000 ] && { echo "# timeout waiting for $new"; break; }
		sleep 0.01
	done
	eval "$2=$new"
}

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
	ok 1 "pid $t reused (got $q instead)"
else
	ok 0 "pid $t now names another process of alice"
	echo go > "$w/nu-fd.gate" &
	echo go > "$w/ng-pid.gate" &
	wait "$ap"
	rc=$?
	is "$rc:$(cat "$NSKIT_SANDBOX/apply.err")" "1:idmap-apply: cannot apply the maps to process $t: process $t ended while newgidmap ran: its pid may name another process now, which may have been given the maps (see /proc/$t/gid_map; a helper that takes fd:N, shadow 4.14 or later, closes this window)" \
		"the mixed pair: the ended target is found after the helpers ran, and the pid-given one is named"
	is "$(kmap "$q" gid)" "0 $ag 1|1 $gsub 100" "(the window the pid-given newgidmap leaves: the new process got the gid map)"
	is "$(kmap "$q" uid)" "" "... and no uid map: the fd:N one wrote no other"
fi
kill -KILL "$q" 2>/dev/null

done_testing
