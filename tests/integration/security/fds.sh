#!/bin/bash
# No descriptor of a tool reaches a program it starts, and tools cope with
# closed or full standard streams.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
a=$(id -u alice)
asub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)
w=$NSKIT_SANDBOX/wrap
mkdir -p "$w"
for h in newuidmap newgidmap; do
	cp "$NSKIT_SANDBOX/helpers/fdrecord" "$w/$h"
	ln -s "/usr/bin/$h" "$w/$h.real"
done
chown -R alice "$w"

# idmap-apply's helpers get exactly 0, 1, 2 (with fds 3-9 open in the caller).
userns_proc p alice
run as alice env NEWUIDMAP="$w/newuidmap" NEWGIDMAP="$w/newgidmap" sh -c \
	"exec 3</etc/passwd 4</etc/group 9>/dev/null; idmap-apply $p"
is "$rc" 0 "idmap-apply through wrapped helpers"
cp "$NSKIT_SANDBOX/helpers/fdrecord" "$w/direct"
as alice sh -c "exec 3</etc/passwd 4</etc/group 9>/dev/null; $w/direct"
is "$(cat "$w/direct.fds")" "0 1 2 3 4 9" "baseline: what a program the caller starts sees"
is "$(cat "$w/newuidmap.fds")|$(cat "$w/newgidmap.fds")" "$(cat "$w/direct.fds")|$(cat "$w/direct.fds")" \
	"the helpers see the caller's descriptors and none of idmap-apply's"
is "$(kmap "$p" uid)" "0 $a 1|1 $asub 65536" "and the real helpers wrote the map"

# Closed and full standard streams.
for t in $(cd "$NSKIT_BIN" && ls); do
	run as alice sh -c "$t --help > /dev/full"
	is "$rc|$err" "1|$t: write error: No space left on device" "$t --help > /dev/full: write error, exit 1"
	run as alice sh -c "$t --version >&-"
	is "$rc|$err" "1|$t: write error: standard output is closed" "$t --version with stdout closed: exit 1"
	run as alice sh -c "$t --version 2>&- <&-"
	is "$rc|$out" "0|$t from nskit $(cat "$NSKIT_TOP/VERSION")" "$t --version with stdin and stderr closed: works"
done
userns_proc p alice
run as alice sh -c "idmap-apply --from - $p <&-"
is "$rc|$err" "1|idmap-apply: the uid map is empty (give 'u' or 'b' lines)" "closed stdin reads as empty"
run as alice sh -c "idmap-apply $p >&- 2>&-"
is "$rc|$(kmap "$p" uid)" "0|0 $a 1|1 $asub 65536" "idmap-apply works with stdout and stderr closed"

done_testing
