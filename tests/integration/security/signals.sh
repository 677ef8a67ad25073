#!/bin/bash
# A caller that ignores SIGCHLD (as some daemons and shells leave it) must
# not lose the exit statuses of the helpers and commands the tools wait for,
# and a command run in place gets the caller's setting back.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
a=$(id -u alice)
asub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)
ign() { perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or exit 127' "$@"; }
check "perl can start a command with SIGCHLD ignored" ign true

fails=0
for i in 1 2 3 4 5 6 7 8; do
	as alice perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV' nsenter-user -- true || fails=$((fails + 1))
done
is "$fails" 0 "nsenter-user with SIGCHLD ignored: 8 runs, newuidmap and newgidmap statuses never lost"
as_argv alice
run timeout 20 "${AS[@]}" perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV' nsenter-user --fork -- sh -c 'exit 7'
is "$rc" 7 "--fork with SIGCHLD ignored returns the child's status (and does not hang)"
run as alice perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV' nsenter-user -r -- grep SigIgn /proc/self/status
sigign=$(awk '{print $2}' <<<"$out")
is "$(( (16#$sigign >> 16) & 1 ))" 1 "the command gets the caller's SIGCHLD setting back (exec in place)"
run as alice nsenter-user -r -- grep SigIgn /proc/self/status
sigign=$(awk '{print $2}' <<<"$out")
is "$(( (16#$sigign >> 16) & 1 ))" 0 "and without it, the default"

userns_proc p alice
run as alice perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV' idmap-apply "$p"
is "$rc|$(kmap "$p" uid)" "0|0 $a 1|1 $asub 65536" "idmap-apply with SIGCHLD ignored"

# --info-fd and --block-fd never take the command's stdin, stdout, stderr.
for fd in 0 1 2; do
	expect_fail 1 "nsenter-user: invalid --info-fd '$fd': use a descriptor above 2 (0-2 are the command's stdin, stdout and stderr)
Try 'nsenter-user --help' for more information." "--info-fd $fd is refused" \
		as alice nsenter-user --no-map --info-fd "$fd" true
done
expect_fail 1 "nsenter-user: invalid --block-fd '0': use a descriptor above 2 (0-2 are the command's stdin, stdout and stderr)
Try 'nsenter-user --help' for more information." "--block-fd 0 is refused" \
	as alice nsenter-user --no-map --block-fd 0 true

done_testing
