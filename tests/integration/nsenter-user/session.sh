#!/bin/bash
# nsenter-user sessions: --keep, --join, --list, --stop; mounts that last
# from one --join to the next; stale and foreign records refused.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser nss || exit 1
mkuser nso || exit 1
uid=$(id -u nss) ouid=$(id -u nso)
sub=$(subid_start nss) subg=$(subid_start nss subgid)
dir=$NSKIT_SANDBOX/run/$uid/nskit
H=$NSKIT_SANDBOX/helpers
holder() { sed -n 's/^pid=//p' "$dir/$1"; }

# --- keep, list, join ----------------------------------------------------------------
run as nss nsenter-user --keep s1
is "$rc:$out:$err" "0::" "--keep NAME without a command: creates the session, says nothing"
is "$(stat -c %a "$dir"):$(stat -c %a "$dir/s1")" "700:600" "record under \$XDG_RUNTIME_DIR/nskit, private"
h=$(holder s1)
is "$(cat /proc/$h/comm)" nskit-holder "the holder process runs"
is "$(kmap "$h" uid)" "0 $uid 1|1 $sub 65536" "the session has the default map"
run as nss nsenter-user --join s1 sh -c 'readlink /proc/self/ns/user /proc/self/ns/mnt; id -u; echo $NSKIT_SESSION'
is "$out" "$(readlink /proc/$h/ns/user /proc/$h/ns/mnt)
0
s1" "--join NAME: the session's user and mount namespaces, root, NSKIT_SESSION"
run as nss nsenter-user --join s1 "$H/fdcount"
is "$out" "0 1 2" "--join: no nsenter-user descriptor reaches the command"
run as nss sh -c 'cd /usr/share && nsenter-user --join s1 pwd'
is "$out" /usr/share "--join keeps the working directory"

# A mount made in one join is there for the next; the host never sees it.
run as nss nsenter-user --join s1 sh -c 'mount -t tmpfs nskit-test /mnt && echo hello > /mnt/f'
is "$rc" 0 "join 1: mount a tmpfs and write to it"
run as nss nsenter-user --join s1 cat /mnt/f
is "$rc:$out" "0:hello" "join 2: the mount and its file are still there"
is "$(grep -c nskit-test /proc/self/mountinfo)" 0 "the host does not see the session's mount"
run as nss nsenter-user --join s1 --fork sh -c 'cat /mnt/f; exit 3'
is "$rc:$out" "3:hello" "--join with --fork"

run as nss nsenter-user --keep s2 sh -c 'echo $NSKIT_SESSION; readlink /proc/self/ns/user'
n2=$(readlink /proc/$(holder s2)/ns/user)
is "$rc:$out" "0:s2
$n2" "--keep NAME COMMAND: the command runs in the new session"

run as nss nsenter-user --list
is "$(echo "$out" | awk 'NR>1 {print $1, $2, $3, $6}' | paste -sd'|')" \
	"s1 $(holder s1) 0:$uid:1,1:$sub:65536 running|s2 $(holder s2) 0:$uid:1,1:$sub:65536 running" "--list"
is "$(echo "$out" | head -1 | tr -s ' ')" "NAME PID UIDMAP GIDMAP AGE STATE" "--list header"
run as nss nsenter-user --list --json
like "$(echo $out)" "^\{ \"sessions\": \[ \{ \"name\": \"s1\", \"pid\": $(holder s1), \"uidmap\": \"0:$uid:1,1:$sub:65536\", \"gidmap\": \"0:$(id -g nss):1,1:$subg:65536\", \"age\": [0-9]+, \"state\": \"running\" \}, ?\{ \"name\": \"s2\"" "--list --json"

# --- refusals ---------------------------------------------------------------------------
expect_fail 1 "nsenter-user: session 's1' already exists (process $(holder s1); join it with '--join s1' or end it with '--stop s1')" \
	"--keep of a running session" as nss nsenter-user --keep s1
expect_fail 1 "nsenter-user: no session 'nope' (see 'nsenter-user --list')" "--join of an unknown session" \
	as nss nsenter-user --join nope true
expect_fail 1 "nsenter-user: invalid session name '../x': it may not start with '.'" "a name with a path" \
	as nss nsenter-user --keep ../x
expect_fail 1 "nsenter-user: invalid session name 'a/b': use letters, digits, '_', '.' and '-'" "a name with a slash" \
	as nss nsenter-user --keep a/b
expect_fail 1 "nsenter-user: --pid needs a mount namespace for its /proc (drop --no-mount)
Try 'nsenter-user --help' for more information." "usage errors come first" as nss nsenter-user --keep x --pid --no-mount
expect_fail 1 "nsenter-user: process 1 is not yours" \
	"--join PID of someone else's process" as nss nsenter-user --join 1 true
expect_fail 1 "nsenter-user: no process with pid 999999" "--join PID of no process" as nss nsenter-user --join 999999 true

# Another user's session: its record copied into nso's own folder.
as nso nsenter-user --keep mine
cp "$dir/s1" "$NSKIT_SANDBOX/run/$ouid/nskit/s1"
chown nso "$NSKIT_SANDBOX/run/$ouid/nskit/s1"
expect_fail 1 "nsenter-user: session 's1' belongs to uid $uid, not to you (uid $ouid)" \
	"a session of another user is refused" as nso nsenter-user --join s1 true
sed -i "s/^uid=.*/uid=$ouid/" "$NSKIT_SANDBOX/run/$ouid/nskit/s1"
expect_fail 1 "nsenter-user: session 's1' belongs to uid $uid, not to you (uid $ouid)" \
	"... even when the record is forged: the namespace owner is checked" as nso nsenter-user --join s1 true

# --- stale records -----------------------------------------------------------------------
as nss nsenter-user --keep s3
h3=$(holder s3)
kill -KILL "$h3"
i=0
while [ -e /proc/$h3 ] && [ $i -lt 300 ]; do sleep 0.01; i=$((i + 1)); done
expect_fail 1 "nsenter-user: session 's3' has ended (its holder, process $h3, is gone) (run 'nsenter-user --stop s3' to remove it, then '--keep s3' again)" \
	"a session whose holder is gone is never joined" as nss nsenter-user --join s3 true
run as nss nsenter-user --list
is "$(echo "$out" | awk '$1 == "s3" {print $3, $6}')" "- stale" "--list shows it stale"
# Pid reused: the record's start time does not match the process with that pid.
as nss nsenter-user --keep s4
sed -i 's/^start=.*/start=1/' "$dir/s4"
expect_fail 1 "nsenter-user: session 's4' has ended (process $(holder s4) is not its holder any more) (run 'nsenter-user --stop s4' to remove it, then '--keep s4' again)" \
	"a record whose pid now names another process is never joined" as nss nsenter-user --join s4 true
run as nss nsenter-user --keep s3
is "$rc" 0 "--keep over a stale record makes a new session"

# --- stop ---------------------------------------------------------------------------------
h=$(holder s1)
run as nss nsenter-user --stop s1
is "$rc:$out:$err" "0::" "--stop ends a session"
is "$([ -e "$dir/s1" ] || [ -e /proc/$h ]; echo $?)" 1 "--stop: the holder is gone and the record removed"
expect_fail 1 "nsenter-user: no session 's1' (see 'nsenter-user --list')" "--join after --stop" as nss nsenter-user --join s1 true
run as nss nsenter-user --stop s4
is "$rc:$([ -e "$dir/s4" ]; echo $?)" "0:1" "--stop of a stale record removes it"
expect_fail 1 "nsenter-user: no session 'nope' (see 'nsenter-user --list')" "--stop of an unknown session" as nss nsenter-user --stop nope

# --- the folder without XDG_RUNTIME_DIR, and its checks -------------------------------------------
tdir=/tmp/nskit-$uid
rm -rf "$tdir"
run as nss env -u XDG_RUNTIME_DIR nsenter-user --keep t1
is "$rc:$(stat -c '%U %a' "$tdir" 2>&1)" "0:nss 700" "XDG_RUNTIME_DIR unset: a private folder /tmp/nskit-UID"
run as nss env -u XDG_RUNTIME_DIR nsenter-user --stop t1
is "$rc" 0 "... and the session there can be stopped"
chmod 755 "$tdir"
expect_fail 1 "nsenter-user: session folder '$tdir' is open to others (mode 0755) (run 'chmod 700 $tdir')" \
	"a session folder open to others is refused" as nss env -u XDG_RUNTIME_DIR nsenter-user --keep t2
chown root "$tdir"
chmod 700 "$tdir"
run as nss env -u XDG_RUNTIME_DIR nsenter-user --list
is "$rc:$err" "0:" "a session folder of someone else is never used: --list looks in your own (session-squat.sh)"
rm -rf "$tdir"

# --- --keep-caps into a session: libcap-ng comes from our own filesystem --------------
# (it is loaded on demand; after setns the one of the session would be used)
lib=$(readlink -f "$(ldconfig -p | awk '$1 == "libcap-ng.so.0" { print $NF; exit }')")
check "libcap-ng.so.0 found" test -f "$lib"
run as nss nsenter-user --keep kc
run as nss nsenter-user --join kc mount --bind /dev/null "$lib"
is "$rc:$err" "0:" "the session's root hides libcap-ng behind /dev/null"
run as nss nsenter-user --join kc sh -c "test -s '$lib' || echo hidden"
is "$out" hidden "... there, and only there"
run as nss nsenter-user --join kc -U 5 -G 6 --keep-caps sh -c 'grep -E "^Cap(Eff|Amb)" /proc/self/status'
is "$rc:$(echo $out):$err" "0:CapEff: 000001ffffffffff CapAmb: 000001ffffffffff:" \
	"--join --keep-caps works in a namespace whose libcap-ng is unusable"
run as nss nsenter-user --stop kc

done_testing
