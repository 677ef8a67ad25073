#!/bin/bash
# nsenter-user: how the command runs - in place or under --fork, exit
# status, signals, --pid, descriptors, environment, identity, propagation.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser nsx || exit 1
uid=$(id -u nsx) gid=$(id -g nsx)
H=$NSKIT_SANDBOX/helpers
T=$NSKIT_SANDBOX/tmp
printf 'not a program\n' > "$T/noexec"
chmod 644 "$T/noexec"

# --- exit status, with and without --fork ------------------------------------
for f in "" --fork; do
	w=${f:-in place}
	run as nsx nsenter-user $f sh -c 'exit 0'
	is "$rc" 0 "$w: exit status 0"
	run as nsx nsenter-user $f sh -c 'exit 7'
	is "$rc" 7 "$w: exit status 7"
	expect_fail 126 "nsenter-user: cannot run '$T/noexec': Permission denied" \
		"$w: a command that cannot be run: 126" as nsx nsenter-user $f "$T/noexec"
	expect_fail 127 "nsenter-user: cannot run 'no-such-command': No such file or directory" \
		"$w: a command that is not found: 127" as nsx nsenter-user $f no-such-command
	run as nsx nsenter-user $f sh -c 'kill -TERM $$'
	is "$rc" 143 "$w: killed by SIGTERM: 128+15"
done

# --- no process in between without --fork -------------------------------------
bg p as nsx nsenter-user sleep 60
i=0
while [ "$(cat /proc/$p/comm 2>/dev/null)" != sleep ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
is "$(cat /proc/$p/comm)" sleep "in place: the pid nsenter-user started with is the command's"
isnt "$(readlink /proc/$p/ns/user)" "$(readlink /proc/self/ns/user)" "in place: the command is in the new user namespace"
is "$(cat /proc/$p/task/*/children | tr -d ' ')" "" "in place: no child left (no helper, no holder)"
kill -TERM "$p"
wait "$p"
is "$?" 143 "in place: a signal to that pid ends the command itself"

# --- --fork forwards signals -----------------------------------------------------
got=$T/got ready=$T/ready
rm -f "$got" "$ready"
bg p as nsx nsenter-user --fork sh -c "trap 'echo USR1 >> $got' USR1; trap 'echo HUP >> $got' HUP
	trap 'echo USR2 >> $got' USR2; trap 'echo TERM >> $got; exit 9' TERM
	touch $ready; while :; do sleep 0.05; done"
wait_for "$ready"
is "$(cat /proc/$p/comm)" nsenter-user "--fork: nsenter-user stays as the parent"
for s in USR1 HUP USR2; do
	kill -$s "$p"
	i=0
	while ! grep -qx "$s" "$got" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.01; i=$((i + 1)); done
done
kill -TERM "$p"
wait "$p"
is "$?" 9 "--fork: the child's exit status is returned"
is "$(paste -sd' ' "$got")" "USR1 HUP USR2 TERM" "--fork: every signal reaches the command"

# --- --pid: pid 1 and a fresh /proc ----------------------------------------------
# (the processes are counted with a glob in the shell itself: a pipeline
# of ls and grep raced, grep starting after ls had read /proc or not)
run as nsx nsenter-user --pid sh -c 'echo $$; read c < /proc/1/comm; echo $c; set -- /proc/[0-9]*; echo $#'
is "$rc:$(echo $out)" "0:1 sh 1" "--pid: the command is pid 1 and /proc shows only its namespace (the shell alone)"
run as nsx nsenter-user --pid sh -c 'exit 7'
is "$rc" 7 "--pid: exit status passed through"
expect_fail 1 "nsenter-user: --pid needs a mount namespace for its /proc (drop --no-mount)
Try 'nsenter-user --help' for more information." "--pid with --no-mount" as nsx nsenter-user --pid --no-mount true

# --- descriptors -------------------------------------------------------------------
run as nsx nsenter-user "$H/fdcount"
is "$out" "0 1 2" "no nsenter-user descriptor reaches the command"
run as nsx nsenter-user --fork "$H/fdcount"
is "$out" "0 1 2" "--fork: no nsenter-user descriptor reaches the command"
run as nsx nsenter-user -r "$H/fdcount"
is "$out" "0 1 2" "--map-root: no descriptor reaches the command"
echo data > "$T/data"
chmod 644 "$T/data"
run as nsx sh -c "exec nsenter-user sh -c 'cat <&3; exec $H/fdcount' 3<$T/data"
is "$out" "data
0 1 2 3" "a descriptor the caller hands in (3<file) reaches the command"

# --- environment: what buildah's own unshare sets ---------------------------------------
vars='echo "$_CONTAINERS_USERNS_CONFIGURED $_CONTAINERS_ROOTLESS_UID $_CONTAINERS_ROOTLESS_GID"'
run as nsx buildah unshare sh -c "$vars"
want=$out
run as nsx nsenter-user sh -c "$vars"
is "$out" "done $uid $gid" "_CONTAINERS_* variables set"
is "$out" "$want" "_CONTAINERS_* variables as buildah unshare sets them"

# --- identity ---------------------------------------------------------------------
run as nsx nsenter-user sh -c 'grep -E "^CapEff" /proc/self/status'
is "$out" "CapEff:	000001ffffffffff" "root inside: every capability"
run as nsx nsenter-user -U 5 -G 6 sh -c 'id -u; id -g; grep -E "^CapEff" /proc/self/status'
is "$(echo $out)" "5 6 CapEff: 0000000000000000" "-U/-G: another id, no capabilities"
run as nsx nsenter-user -U 5 -G 6 --keep-caps sh -c 'grep -E "^Cap(Eff|Amb)" /proc/self/status'
is "$(echo $out)" "CapEff: 000001ffffffffff CapAmb: 000001ffffffffff" "--keep-caps: capabilities kept through exec"
run as nsx nsenter-user --no-new-privs sh -c 'grep NoNewPrivs /proc/self/status'
is "$(echo $out)" "NoNewPrivs: 1" "--no-new-privs"
run as nsx nsenter-user sh -c 'grep NoNewPrivs /proc/self/status'
is "$(echo $out)" "NoNewPrivs: 0" "no_new_privs is not set by default"
run as nsx nsenter-user --setgroups deny cat /proc/self/setgroups
is "$out" deny "--setgroups deny"
expect_fail 1 "nsenter-user: cannot allow setgroups with only your own gid mapped: newgidmap denies it then (CVE-2018-7169) (map subordinate gids too, or use --setgroups deny)" \
	"--map-root --setgroups allow is refused up front" as nsx nsenter-user -r --setgroups allow true
run as nsx nsenter-user --no-mount sh -c 'readlink /proc/self/ns/mnt'
is "$out" "$(readlink /proc/self/ns/mnt)" "--no-mount: the caller's mount namespace"

# --- propagation of the new mount namespace -----------------------------------------
# Make the sandbox's (private) mount tree shared, as a systemd host is.
mount --make-rshared /
prop() { as nsx nsenter-user "$@" sh -c 'grep -E "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / " /proc/self/mountinfo' |
	sed -E 's/ - .*//' | grep -oE 'shared|master' | paste -sd' '; }
is "$(prop)" "" "default propagation: private"
is "$(prop --propagation private)" "" "--propagation private"
is "$(prop --propagation slave)" "master" "--propagation slave"
is "$(prop --propagation shared)" "shared master" "--propagation shared (a peer group of its own, still receiving from the host)"
is "$(prop --propagation unchanged)" "master" "--propagation unchanged (the kernel made it a slave)"
mount --make-rprivate /

# --- AT_SECURE, help, usage ---------------------------------------------------------------
mkdir -p "$NSKIT_SANDBOX/suid"
cp "$NSKIT_BIN/nsenter-user" "$NSKIT_SANDBOX/suid/"
chmod 4755 "$NSKIT_SANDBOX/suid/nsenter-user"
expect_fail 1 "nsenter-user: refusing to run setuid, setgid or with file capabilities; nskit delegates privileged steps to newuidmap/newgidmap" \
	"a setuid copy refuses to run" as nsx "$NSKIT_SANDBOX/suid/nsenter-user" true
run nsenter-user --help
is "$rc:$(echo "$out" | head -1):$(echo "$out" | tail -1)" "0:Usage::For more details see nsenter-user(1)." "--help"
run nsenter-user --version
like "$rc:$out" "^0:nsenter-user from nskit [0-9]" "--version"
expect_fail 1 "nsenter-user: unrecognized option '--bogus'
Try 'nsenter-user --help' for more information." "unknown option" nsenter-user --bogus
expect_fail 1 "nsenter-user: --join enters existing namespaces: no mapping, namespace or --setgroups options
Try 'nsenter-user --help' for more information." "--join with a map option" nsenter-user --join s -r true
expect_fail 1 "nsenter-user: --list takes no command
Try 'nsenter-user --help' for more information." "--list with a command" nsenter-user --list true
expect_fail 1 "nsenter-user: invalid --propagation 'up': use slave, shared, private or unchanged
Try 'nsenter-user --help' for more information." "bad --propagation" nsenter-user --propagation up true

done_testing
