#!/bin/bash
# No nskit tool runs setuid, setgid or with file capabilities: each refuses
# (AT_SECURE) before doing anything, with one line and exit 1.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
d=$NSKIT_SANDBOX/suid
mkdir -p "$d"
# A fresh tmpfs: the setuid bit must be honoured where the copies live.
mount -t tmpfs -o mode=0755,suid,exec nskit-suid "$d"

tools=$(cd "$NSKIT_BIN" && ls)
is "$(wc -w <<<"$tools")" "$(ls "$NSKIT_TOP"/{idmap,nsenter,subid,mnt,doctor}/*.c | wc -l)" "every tool is built"
for t in $tools; do
	msg="$t: refusing to run setuid, setgid or with file capabilities; nskit delegates privileged steps to newuidmap/newgidmap"
	install -m 4755 -o root "$NSKIT_BIN/$t" "$d/$t-setuid"
	expect_fail 1 "$msg" "$t: refuses to run setuid root" as alice "$d/$t-setuid" --version
	install -m 2755 -g root "$NSKIT_BIN/$t" "$d/$t-setgid"
	expect_fail 1 "$msg" "$t: refuses to run setgid" as alice "$d/$t-setgid" --help
	install -m 0755 "$NSKIT_BIN/$t" "$d/$t-caps"
	setcap cap_setuid,cap_setgid+ep "$d/$t-caps"
	expect_fail 1 "$msg" "$t: refuses to run with file capabilities" as alice "$d/$t-caps" --version
	# The same copy without the bits runs normally.
	install -m 0755 "$NSKIT_BIN/$t" "$d/$t-plain"
	run as alice "$d/$t-plain" --version
	is "$rc|$out" "0|$t from nskit $(cat "$NSKIT_TOP/VERSION")" "$t: a plain copy runs"
done

done_testing
