#!/bin/bash
# --explain knows what the binaries print: each broken set-up the tests
# know how to make is made for real, every client installed is run in it
# (podman, buildah, util-linux unshare, bwrap, newuidmap, newgidmap,
# rootlesskit, runc), and every line each one prints to stderr is given to
# nskit-doctor --explain, run the same way as the client. A line passes
# when --explain knows it and finds a cause of the set-up (exit 0), or
# when it is listed below as not a diagnosis (with the reason). Anything
# else fails, naming the client, the set-up and the line.
#
# Debian 12 (bookworm: shadow 4.13, util-linux 2.38.1, podman 4.3.1,
# buildah 1.28.2, bubblewrap 0.8.0, rootlesskit 1.1.0, runc 1.1.5) and
# Debian 13 (trixie: shadow 4.17.4, util-linux 2.41.5, podman 5.4.2,
# buildah 1.39.3, bubblewrap 0.12.0, rootlesskit 2.0.2, runc 1.1.15) print
# different text in places: where they do, the entries below name the
# release (VERSION_ID of /etc/os-release) that prints them.
. "$NSKIT_TOP/tests/integration/lib.sh"

VERSION_ID=$(. /etc/os-release 2>/dev/null && echo "${VERSION_ID:-}")
case $VERSION_ID in
12 | 13) ;;
*) skip "live --explain" "written for Debian 12 and 13, this is VERSION_ID '$VERSION_ID'"; done_testing ;;
esac
diag "Debian $VERSION_ID ($NSKIT_RELEASE): the lines of this release are expected"

# --- lines that are not a diagnosis ------------------------------------------
# RELEASE (12, 13 or *; with a ? when the line comes only sometimes, as
# the order of two processes falls) <TAB> CLIENT <TAB> extended regex of the whole line
# <TAB> why it is not a diagnosis of the set-up. Every entry of this
# release must be met at least once (a stale entry fails).
NOISE=$(cat <<'EOF'
*?	rootlesskit	^\[rootlesskit:child \] error: (parsing message from fd 3: )?EOF$	(13: rootlesskit 2 says only "error: EOF") the child's end of the pipe when the parent failed first: the parent's line is the diagnosis
*	rootlesskit	^: exit status 1$	the rest of newuidmap's line (its output ended in a newline inside rootlesskit's message)
*	rootlesskit	level=warning msg="(\[rootlesskit:parent\] )?Running RootlessKit as the root user is unsupported\."$	(13: with rootlesskit 2's prefix) run as root of the namespace whose limit is 0 (set-up 8): not the set-up's failure
*	runc	msg="nsexec-1\[[0-9]+\]: failed to sync with parent: read\(SYNC_USERMAP_ACK\): Success"$	the child's side of the parent's failure to write the maps: the nsexec-0 line before is the diagnosis
*	runc	msg="nsexec-0\[[0-9]+\]: failed to sync with stage-1: next state: Success"$	the parent's side of the child's failure to make the namespace: the nsexec-1 line before is the diagnosis
*?	runc	level=warning msg="unable to get oom kill count" error="no directory specified for memory\.oom_control"$	cgroup accounting of a container that never started, not the set-up
*	runc	level=error msg="runc run failed: unable to start container process: can't get final child's PID from pipe: EOF"$	runc's summary of nsexec's failure: the nsexec-0 line before it is the diagnosis
13?	podman	level=warning msg="Using cgroups-v1 which is deprecated in favor of cgroups-v2 with Podman v5 and will be removed in a future version\. Set environment variable `PODMAN_IGNORE_CGROUPSV1_WARNING` to hide this warning\."$	podman 5 on a machine whose cgroups are v1 or hybrid: the machine's layout, not the set-up
*	podman	^Getting image source signatures$	podman import's progress
*	podman	^Copying blob (sha256:)?[0-9a-f]+( done)?$	podman import's progress
*?	buildah	^Error during setresuid\(0\): Invalid argument$	the child cannot become root once no map was written: the 'finding newuidmap' line after it is the diagnosis
*	buildah	level=error msg="\(Unable to determine exit status\)"$	buildah's note on the child that failed, after the diagnosis
EOF
)
noise_used=

# is_noise CLIENT LINE: 0 when LINE is listed as not a diagnosis for CLIENT
# on this release (and the entry is marked as used).
is_noise() {
	local rel cl re n=0
	while IFS=$'\t' read -r rel cl re _; do
		n=$((n + 1))
		[ -n "$rel" ] || continue
		rel=${rel%\?}
		[ "$rel" = "*" ] || [ "$rel" = "$VERSION_ID" ] || continue
		# podman+runc: podman's lines and runc's
		case "+$1+" in *"+$cl+"*) ;; *) continue ;; esac
		if printf '%s\n' "$2" | grep -Eq -- "$re"; then
			noise_used="$noise_used $n "
			return 0
		fi
	done <<<"$NOISE"
	return 1
}

# --- the runner ----------------------------------------------------------------
# CTX: the command prefix of the set-up (the user, and how it is run:
# no_new_privs, a nested namespace, ...), used for the client and for
# nskit-doctor alike. CAUSES: the finding ids that are this set-up.
CTX=()
CAUSES=
SETUP=
total=0

# live CLIENT CMD...: run CMD in the set-up; each stderr line is explained.
live() {
	local client=$1 line n=0 bad='' causes c hit cerr crc
	shift
	run "${CTX[@]}" "$@"
	cerr=$err crc=$rc
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		if is_noise "$client" "$line"; then
			continue
		fi
		run "${CTX[@]}" nskit-doctor --explain "$line"
		if printf '%s\n' "$out" | grep -q '^no line of the input is a message nskit-doctor knows'; then
			bad="$bad
  unknown to --explain: $line"
			continue
		fi
		causes=$(printf '%s\n' "$out" | awk '$1=="cause:" && $2!="not"{print $2}' | paste -sd' ')
		hit=
		for c in $causes; do
			case " $CAUSES " in *" $c "*) hit=1 ;; esac
		done
		if [ -z "$hit" ]; then
			bad="$bad
  known as $(printf '%s\n' "$out" | awk '$1=="known"{sub(",", "", $3); print $3; exit}'), but its causes found are '${causes:-none}', not the set-up ($CAUSES): $line"
			continue
		fi
		n=$((n + 1))
		printf '%s %s\n' "$client" "$(printf '%s\n' "$out" | awk '$1=="known"{sub(",", "", $3); print $3; exit}')" >> "$NSKIT_SANDBOX/keys"
	done <<<"$cerr"
	total=$((total + n))
	if [ -n "$bad" ]; then
		_tap_result 1 "$SETUP: $client: every stderr line is explained as the set-up"
		diag "client $client in set-up '$SETUP' (Debian $VERSION_ID), command: $* (exit $crc)$bad" "its whole stderr:" "$cerr"
	else
		_tap_result 0 "$SETUP: $client: every stderr line is explained as the set-up"
	fi
	# A client that printed no diagnosis would make the check empty.
	isnt "$n" 0 "$SETUP: $client: it printed at least one line that names the set-up"
	[ "$n" != 0 ] || diag "its stderr (exit $crc):" "$cerr"
}

# --- what the clients need ---------------------------------------------------
have() { command -v "$1" >/dev/null; }
# A client that is not installed is a skip (a failure in CI): its lines
# are not checked, and it is left out of the comparison with the manual.
for c in podman buildah unshare bwrap newuidmap newgidmap rootlesskit runc jq; do
	have "$c" || skip "$c: its lines in the broken set-ups" "$c is not installed (scripts/install-deps installs it)"
done
# The sandbox's / is private (podman warns about that in every run): it is
# shared for every set-up but the one that is about it. This is the
# sandbox's own mount namespace.
mount --make-rshared /

# An image of a file owned by 5000:5000 (for a range of 1000), and one of
# root's files.
mkdir -p "$NSKIT_SANDBOX/img" "$NSKIT_SANDBOX/img2/etc"
echo x > "$NSKIT_SANDBOX/img/f"
tar -C "$NSKIT_SANDBOX/img" --owner=5000 --group=5000 -cf "$NSKIT_SANDBOX/img.tar" f
tar -C "$NSKIT_SANDBOX/img2" --owner=0 --group=0 -cf "$NSKIT_SANDBOX/img2.tar" etc
chmod 0644 "$NSKIT_SANDBOX/img.tar" "$NSKIT_SANDBOX/img2.tar"

# A runc bundle: a rootless spec whose maps take 65536 subordinate ids
# besides the user's own (so runc runs newuidmap and newgidmap), and a
# root of /usr/bin/true and its libraries.
bundle() { # USER -> $NSKIT_SANDBOX/bundle-USER
	local u=$1 b="$NSKIT_SANDBOX/bundle-$1" f s g
	[ -e "$b/config.json" ] && return
	mkdir -p "$b/rootfs"
	for f in /usr/bin/true $(ldd /usr/bin/true | grep -oE '/[^ ]+'); do
		mkdir -p "$b/rootfs${f%/*}"
		cp -L "$f" "$b/rootfs$f"
	done
	(cd "$b" && runc spec --rootless)
	s=$(subid_start "$u")
	[ -n "$s" ] || s=$((SUB_UID_MAX + 1))
	g=$(subid_start "$u" subgid)
	[ -n "$g" ] || g=$((SUB_UID_MAX + 1))
	jq --argjson uid "$(id -u "$u")" --argjson gid "$(id -g "$u")" --argjson s "$s" --argjson g "$g" '
		.process.args = ["/usr/bin/true"] | .process.terminal = false |
		.linux.uidMappings = [{containerID: 0, hostID: $uid, size: 1}, {containerID: 1, hostID: $s, size: 65536}] |
		.linux.gidMappings = [{containerID: 0, hostID: $gid, size: 1}, {containerID: 1, hostID: $g, size: 65536}]' \
		"$b/config.json" > "$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
	chown -R "$u:" "$b"
}
SUB_UID_MAX=$(awk '$1 == "SUB_UID_MAX" { print $2 }' /etc/login.defs)

# unshare --map-users: util-linux 2.38 takes outer,inner,count; 2.39 and
# later inner:outer:count.
map_users() { # INNER OUTER COUNT
	if [ "$VERSION_ID" = 12 ]; then echo "--map-users=$2,$1,$3"; else echo "--map-users=$1:$2:$3"; fi
}
map_groups() {
	if [ "$VERSION_ID" = 12 ]; then echo "--map-groups=$2,$1,$3"; else echo "--map-groups=$1:$2:$3"; fi
}

# The clients that map a range through newuidmap and newgidmap, run as the
# set-up runs them. P: a process of the user waiting in a namespace of its
# own (for newuidmap and newgidmap themselves).
# $NOT: clients left out (those the set-up does not break).
NOT=
helper_clients() { # USER
	local u=$1 uid gid s g p
	uid=$(id -u "$u")
	gid=$(id -g "$u")
	s=$(subid_start "$u")
	[ -n "$s" ] || s=$((SUB_UID_MAX + 1))
	g=$(subid_start "$u" subgid)
	[ -n "$g" ] || g=$((SUB_UID_MAX + 1))
	have podman && live podman podman unshare true
	have buildah && live buildah buildah unshare true
	have unshare && live unshare unshare --user --map-auto --map-root-user true
	have rootlesskit && live rootlesskit rootlesskit true
	if have runc && have jq; then
		bundle "$u"
		live runc runc run --bundle "$NSKIT_SANDBOX/bundle-$u" "live-$u-$total"
	fi
	if have newuidmap && [ "$NOT" != newuidmap ]; then
		userns_proc p "$u"
		live newuidmap newuidmap "$p" 0 "$uid" 1 1 "$s" 65536
	fi
	if have newgidmap; then
		userns_proc p "$u"
		live newgidmap newgidmap "$p" 0 "$gid" 1 1 "$g" 65536
	fi
}

# --- 1. no subordinate ids at all --------------------------------------------
mkuser bob
subid-alloc --release bob >/dev/null
SETUP="no /etc/subuid or /etc/subgid range"
CAUSES="subuid-file subuid-range subgid-file subgid-range subid-requested"
as_argv bob; CTX=("${AS[@]}")
helper_clients bob
have podman && live podman podman import "$NSKIT_SANDBOX/img.tar" localhost/t

# --- 2. a subordinate uid range but no gid range ---------------------------
mkuser dave
sed -i '/^dave:/d' /etc/subgid
SETUP="no /etc/subgid range"
CAUSES="subgid-file subgid-range subid-requested"
as_argv dave; CTX=("${AS[@]}")
NOT=newuidmap helper_clients dave

# --- 3. helpers neither setuid nor with the file capability -----------------
# Copies of the real ones, mode 0755, bound over them (in the sandbox's
# mount namespace).
mkuser alice
uid=$(id -u alice)
plain="$NSKIT_SANDBOX/plain"
mkdir -p "$plain"
cp /usr/bin/newuidmap /usr/bin/newgidmap "$plain/"
chmod 0755 "$plain"/newuidmap "$plain"/newgidmap
as_argv alice
mount --bind "$plain/newuidmap" /usr/bin/newuidmap
mount --bind "$plain/newgidmap" /usr/bin/newgidmap
SETUP="newuidmap and newgidmap not setuid"
CAUSES="newuidmap newgidmap newuidmap-nosuid newgidmap-nosuid"
CTX=("${AS[@]}")
helper_clients alice
umount /usr/bin/newuidmap /usr/bin/newgidmap

# --- 4. no executable newuidmap ---------------------------------------------
: > "$NSKIT_SANDBOX/noexec"
chmod 0644 "$NSKIT_SANDBOX/noexec"
mount --bind "$NSKIT_SANDBOX/noexec" /usr/bin/newuidmap
SETUP="newuidmap not executable"
CAUSES="newuidmap"
CTX=("${AS[@]}")
have podman && live podman podman unshare true
have buildah && live buildah buildah unshare true
have unshare && live unshare unshare --user --map-auto --map-root-user true
have rootlesskit && live rootlesskit rootlesskit true
if have runc && have jq; then
	live runc runc run --bundle "$NSKIT_SANDBOX/bundle-alice" live-noexec
fi
umount /usr/bin/newuidmap

# --- 5. no_new_privs: the setuid helpers cannot gain root -------------------
SETUP="no_new_privs"
CAUSES="no-new-privs"
CTX=(setpriv --no-new-privs "${AS[@]}")
helper_clients alice

# --- 6. a nested namespace whose map lacks the user's range -----------------
# The holder blocks opening a FIFO nobody writes to, until it is killed
# at the end.
mkfifo "$NSKIT_SANDBOX/hold"
bg N unshare --user cat "$NSKIT_SANDBOX/hold"
wait_until "the namespace of $N" in_new_userns "$N" cat
run idmap-apply -m 0:0:65536 "$N"
is "$rc" 0 "a namespace mapping host ids 0-65535 only"
SETUP="parent namespace without the range"
CAUSES="parent-map"
CTX=(nsenter --user --target "$N" "${AS[@]}")
helper_clients alice

# --- 7. a range too small for the map asked for ------------------------------
mkuser carol
cs=$(subid_start carol)
cg=$(subid_start carol subgid)
sed -i '/^carol:/d' /etc/subuid /etc/subgid
echo "carol:$cs:1000" >> /etc/subuid
echo "carol:$cg:1000" >> /etc/subgid
SETUP="a range of 1000 ids"
CAUSES="subuid-size subgid-size subid-requested"
as_argv carol; CTX=("${AS[@]}")
have podman && live podman podman import "$NSKIT_SANDBOX/img.tar" localhost/t
if have podman && have runc; then
	run "${AS[@]}" podman import "$NSKIT_SANDBOX/img2.tar" localhost/empty
	is "$rc" 0 "an image of root's files imports with 1000 ids"
	live podman+runc podman --runtime runc run --rm --network none --user 4000 localhost/empty /x
fi
have unshare && live unshare unshare --user --map-root-user "$(map_users 1 "$cs" 65536)" "$(map_groups 1 "$cg" 65536)" true
if have runc && have jq; then
	bundle carol
	live runc runc run --bundle "$NSKIT_SANDBOX/bundle-carol" live-small
fi
if have newuidmap; then
	userns_proc p carol
	live newuidmap newuidmap "$p" 0 "$(id -u carol)" 1 1 "$cs" 65536
fi
if have newgidmap; then
	userns_proc p carol
	live newgidmap newgidmap "$p" 0 "$(id -g carol)" 1 1 "$(subid_start carol subgid)" 65536
fi

# --- 8. max_user_namespaces 0, in a namespace of alice's --------------------
# (the limit is per namespace: the machine's is untouched)
SETUP="max_user_namespaces 0"
CAUSES="userns-max"
as_argv alice
CTX=("${AS[@]}" unshare --user --map-root-user sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"' sh)
have bwrap && live bwrap bwrap --unshare-user --ro-bind / / true
have unshare && live unshare unshare --user true
have rootlesskit && live rootlesskit rootlesskit true
if have runc && have jq; then
	# A bundle whose maps are of the namespace's own root (alice).
	b="$NSKIT_SANDBOX/bundle-max"
	mkdir -p "$b"
	cp -a "$NSKIT_SANDBOX/bundle-alice/rootfs" "$b/"
	jq '.linux.uidMappings = [{containerID: 0, hostID: 0, size: 1}] |
		.linux.gidMappings = [{containerID: 0, hostID: 0, size: 1}]' \
		"$NSKIT_SANDBOX/bundle-alice/config.json" > "$b/config.json"
	chown -R alice: "$b"
	live runc runc --root "$NSKIT_SANDBOX/run/$uid/runc-max" run --bundle "$b" live-max
fi
isnt "$(cat /proc/sys/user/max_user_namespaces)" 0 "the machine's limit is untouched"

# --- 9. / not a shared mount -------------------------------------------------
# (a user who has not run podman yet: podman warns when it makes its
# namespace, not when it joins its pause process's)
mount --make-rprivate /
mkuser erin
SETUP="/ not shared"
CAUSES="root-shared"
as_argv erin; CTX=("${AS[@]}")
have podman && live podman podman unshare true
mount --make-rshared /

# --- 10. XDG_RUNTIME_DIR not the user's --------------------------------------
mkdir -p "$NSKIT_SANDBOX/run/0"
SETUP="XDG_RUNTIME_DIR of another user"
CAUSES="xdg-runtime-dir"
as_argv alice
CTX=("${AS[@]}" XDG_RUNTIME_DIR="$NSKIT_SANDBOX/run/0")
have podman && live podman podman unshare true
have buildah && live buildah buildah unshare true

# --- 11. XDG_RUNTIME_DIR missing ------------------------------------------------
# podman 4.3.1 (Debian 12) makes the folder and says nothing; podman 5
# (Debian 13) refuses.
SETUP="XDG_RUNTIME_DIR missing"
CAUSES="xdg-runtime-dir"
CTX=("${AS[@]}" XDG_RUNTIME_DIR="$NSKIT_SANDBOX/run/missing")
if [ "$VERSION_ID" = 12 ]; then
	run "${CTX[@]}" podman unshare true
	is "$rc $err" "0 " "$SETUP: podman 4.3.1 says nothing"
	rm -rf "$NSKIT_SANDBOX/run/missing"
else
	have podman && live podman podman unshare true
fi

# --- 12. unshare's --setgroups deny with a map --------------------------------
# The kernel takes /proc/PID/setgroups only before gid_map, and unshare
# writes it after the map: newgidmap's (--map-auto, --map-users) or its
# own (--map-root-user, which denies setgroups itself first).
SETUP="setgroups deny after the map"
CAUSES="setgroups-order"
CTX=("${AS[@]}")
if have unshare; then
	live unshare unshare --user --setgroups deny --map-auto --map-root-user true
	live unshare unshare --user --setgroups deny --map-root-user \
		"$(map_users 1 "$(subid_start alice)" 65536)" "$(map_groups 1 "$(subid_start alice subgid)" 65536)" true
	live unshare unshare --user --setgroups deny --map-root-user true
fi
# Without --setgroups, --map-root-user denies setgroups itself, with no
# message (the control).
run "${CTX[@]}" unshare --user --map-root-user cat /proc/self/setgroups
is "$rc $out $err" "0 deny " "$SETUP: --map-root-user without --setgroups: setgroups denied, no message"

done_testing_live() {
	# Every entry of this release's noise was met (no stale entries).
	local rel cl re n=0 stale=''
	while IFS=$'\t' read -r rel cl re _; do
		n=$((n + 1))
		[ -n "$rel" ] || continue
		case $rel in *\?) continue ;; esac
		[ "$rel" = "*" ] || [ "$rel" = "$VERSION_ID" ] || continue
		have "$cl" || continue
		case "$noise_used" in *" $n "*) ;; *) stale="$stale
  $cl: $re" ;; esac
	done <<<"$NOISE"
	is "${stale:-none}" none "every not-a-diagnosis entry of Debian $VERSION_ID was printed by its client"
	# nskit-doctor(1), MESSAGES BY RELEASE: this release's list, by client,
	# is what the clients printed.
	is "$(sort -u "$NSKIT_SANDBOX/keys" | awk '$1!=c{if(c!="")print l; c=$1; l=$1":"} {l=l" "$2} END{print l}')" \
		"$(awk -v rel="Debian $VERSION_ID " '
			/^\.S[SH] / { on = index($0, ".SS \"" rel) == 1; next }
			!on { next }
			/^\.TP$/ { tp = 1; next }
			tp && /^\.B / { c = $2; tp = 0; getline; gsub(/\\-/, "-"); gsub(/,/, ""); print c ": " $0; next }
			{ tp = 0 }' "$NSKIT_TOP/man/nskit-doctor.1" | sed 's/\\-/-/g' | while read -r c keys; do
				c=${c%:}
				have "${c#*+}" && have "${c%+*}" && { [ "$c" != runc ] || have jq; } && echo "$c: $keys"
			done)" \
		"nskit-doctor(1) lists, for Debian $VERSION_ID, the messages each client printed"
	diag "$total client lines of broken set-ups explained on Debian $VERSION_ID; the messages, by client:" \
		"$(sort -u "$NSKIT_SANDBOX/keys" | awk '$1!=c{if(c!="")print l; c=$1; l=$1":"} {l=l" "$2} END{print l}')"
	done_testing
}
done_testing_live
