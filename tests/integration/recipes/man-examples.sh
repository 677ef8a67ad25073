#!/bin/bash
# Every example of every man page runs. The EXAMPLES section of each
# man/*.1 and man/*.7 is cut into its .EX/.EE blocks, and each block is run
# in the sandbox, as written (roff escapes undone):
#   - a block that starts with "#!" is a script: run with sh as a test user;
#   - otherwise "$ CMD" lines are run by a test user, "# CMD" lines by root
#     ("> " lines continue the command), one shell for the block so that
#     variables carry from line to line; the other lines are output, not
#     compared (ids, pids and names differ here), except that a command whose
#     shown output starts with "tool: " must fail, and "$ echo $?" must print
#     what is shown.
# What an example takes for granted is provided here, never faked: a fresh
# test user per block (with the usual subordinate ranges; none for
# nskit-doctor's, whose example is about a user without), its home as the
# working folder, $PID (a process of that user waiting in a new user
# namespace), a rootfs/ folder, podman set up as in idmap-show/podman-top.sh
# with an image named alpine, users alice, bob and carol for root's
# examples, a private /srv.
. "$NSKIT_TOP/tests/integration/lib.sh"

W=$NSKIT_SANDBOX/ex
mkdir -p "$W"
chmod 0755 "$W"
for u in alice bob carol; do mkuser "$u" || exit 1; done
mount -t tmpfs nskit-srv /srv || exit 1

# The tiny image (sleep, true, sh and their libraries).
img=$NSKIT_SANDBOX/rootfs.tar
rootfs=$NSKIT_SANDBOX/imgroot
shell=$(readlink -f /bin/sh)
mkdir -p "$rootfs/bin"
cp /usr/bin/sleep /usr/bin/true "$rootfs/bin/"
cp "$shell" "$rootfs/bin/sh"
for l in $(ldd /usr/bin/sleep /usr/bin/true "$shell" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}' | sort -u); do
	mkdir -p "$rootfs${l%/*}"
	cp -L "$l" "$rootfs$l"
done
tar -C "$rootfs" -cf "$img" .
chmod 0644 "$img"

# roff to text: the escapes the pages use.
deroff() {
	sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/\\&//g' -e "s/\\\\(aq/'/g" -e 's/\\f[BIRP]//g'
}

# blocks PAGE: print the blocks of PAGE's EXAMPLES, separated by a line "@@".
blocks() {
	awk '/^\.SH EXAMPLES/ { ex = 1; next } /^\.SH / { ex = 0 }
		ex && /^\.EX/ { inb = 1; next }
		ex && /^\.EE/ { inb = 0; print "@@"; next }
		inb' "$1" | deroff
}

# script BLOCK-FILE: the shell code that runs a prompt block, and checks.
script() {
	awk -v as_user="$2" '
	function flush() {
		if (cmd == "") return
		# The check of the command before waits: "echo $?" after it
		# shows its status instead.
		if (cmd != "echo $?")
			printf "%s", pending
		pending = ""
		printf "cmd=%s\n", q(cmd)
		if (who == "$" && as_user != "")
			printf "%s bash -c \"$cmd\" </dev/null >\"$T/out\" 2>\"$T/err\"; rc=$?\n", as_user
		else
			printf "(exit $rc); eval \"$cmd\" </dev/null >\"$T/out\" 2>\"$T/err\"; rc=$?\n"
		printf "printf \"%%s\\n\" \"$cmd\" >> \"$T/log\"; cat \"$T/out\" \"$T/err\" >> \"$T/log\"\n"
		if (cmd ~ /sleep [0-9]+ &/)
			printf "i=0; while [ \"$(cat /proc/$!/comm 2>/dev/null)\" != sleep ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done\n"
		if (cmd == "echo $?")
			pending = sprintf("[ \"$(cat \"$T/out\")\" = %s ] || { echo \"echo \\$? printed $(cat \"$T/out\"), the page shows %s\" >> \"$T/log\"; bad=1; }\n", q(first), first)
		else if (fails)
			pending = "[ $rc != 0 ] || { echo \"expected to fail (the page shows a message): $cmd\" >> \"$T/log\"; bad=1; }\n"
		else
			pending = "[ $rc = 0 ] || { echo \"exit $rc: $cmd\" >> \"$T/log\"; bad=1; }\n"
		cmd = ""
	}
	function q(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
	BEGIN { print "bad=0 rc=0" }
	/^[$#] / {
		flush(); who = substr($0, 1, 1); cmd = substr($0, 3); fails = 0; first = ""; nout = 0; next
	}
	/^> / && cmd != "" && nout == 0 { cmd = cmd "\n" substr($0, 3); next }
	{
		if (nout == 0) { first = $0; if ($0 ~ /^[a-z][a-z-]*: /) fails = 1 }
		nout++
	}
	END { flush(); printf "%s", pending; print "exit $bad" }' "$1"
}

nb=0
for page in "$NSKIT_TOP"/man/*.1 "$NSKIT_TOP"/man/*.7; do
	name=$(basename "$page")
	blocks "$page" > "$W/blocks"
	k=0
	while IFS= read -r -d $'\x01' block; do
		[ -n "$block" ] || continue
		k=$((k + 1))
		nb=$((nb + 1))
		u=ex$nb
		mkuser "$u" || exit 1
		home=$NSKIT_SANDBOX/home/$u
		T=$W/$nb
		mkdir -p "$T"
		chmod 0777 "$T"
		printf '%s\n' "$block" > "$T/block"
		[ "$name" = nskit-doctor.1 ] && sed -i "/^$u:/d" /etc/subuid /etc/subgid
		# rootfs/: the files of an image (for buildah), and an image root
		# (for subid-alloc --root).
		mkdir -p "$home/rootfs/etc"
		printf '#!/bin/sh\necho hello\n' > "$home/rootfs/hello"
		chmod 0755 "$home/rootfs/hello"
		cp /etc/passwd /etc/group /etc/login.defs /etc/subuid /etc/subgid "$home/rootfs/etc/"
		if grep -q podman "$T/block"; then
			mkdir -p "$home/.config/containers"
			printf '[storage]\ndriver = "vfs"\n' > "$home/.config/containers/storage.conf"
			printf '[containers]\nnetns = "none"\n[engine]\nruntime = "runc"\n' > "$home/.config/containers/containers.conf"
		fi
		chown -R "$u:" "$home"
		if grep -q podman "$T/block"; then
			as "$u" sh -c "cd && podman import -q '$img' localhost/alpine:latest" >/dev/null 2>&1 ||
				diag "podman import failed for $u"
		fi
		userns_proc PID "$u"
		if head -1 "$T/block" | grep -q '^#!'; then
			cp "$T/block" "$T/run.sh"
			chmod 0755 "$T/run.sh"
			run as "$u" sh -c "cd && sh '$T/run.sh'"
			printf '%s\n%s\n' "$out" "$err" > "$T/log"
			status_is $rc "$name example $k (a script) runs"
		else
			as_argv "$u"
			{
				echo "T='$T'; PID=$PID; export PID"
				echo "cd '$home' || exit 1"
				if grep -q '^\$ ' "$T/block" && ! grep -q '^# ' "$T/block"; then
					script "$T/block" ""
				else
					script "$T/block" "cd '$home' && PID=$PID ${AS[*]}"
				fi
			} > "$T/run.sh"
			if grep -q '^# ' "$T/block"; then
				run bash "$T/run.sh"
			else
				run as "$u" bash "$T/run.sh"
			fi
			status_is $rc "$name example $k runs"
		fi
		[ "$rc" = 0 ] || diag "$(cat "$T/block")" "--- what ran:" "$(cat "$T/log" 2>/dev/null)" "$err"
	done < <(awk 'BEGIN { ORS = "" } /^@@$/ { print "\001"; next } { print $0 "\n" }' "$W/blocks")
done
status_is $([ "$nb" -gt 20 ]; echo $?) "the man pages have examples ($nb blocks)"

done_testing
