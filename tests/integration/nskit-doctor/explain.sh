#!/bin/bash
# --explain with the real messages: each broken state made for real, the
# real tool run in it, its stderr given to nskit-doctor --explain, which
# must name the cause (exit 0) or say it found none (exit 1).
. "$NSKIT_TOP/tests/integration/lib.sh"

cause() { printf '%s\n' "$out" | awk '$1=="cause:"{print $2}' | paste -sd' '; }
flat() { printf '%s\n' "$out" | tr '\n' ' ' | tr -s ' '; }
key() { printf '%s\n' "$out" | awk '$1=="known" && $2=="as:"{sub(",", "", $3); print $3}' | paste -sd' '; }

mkuser alice
uid=$(id -u alice)
start=$(awk -F: -v u=alice '$1==u{print $2; exit}' /etc/subuid)
plain="$NSKIT_SANDBOX/plain"
mkdir -p "$plain"
cp /usr/bin/newuidmap /usr/bin/newgidmap "$plain/"
chmod 0755 "$plain"/newuidmap "$plain"/newgidmap
as_argv alice

# --- "write to uid_map failed: Operation not permitted", cause 1: a helper
# that is neither setuid nor has the file capability, named by $NEWUIDMAP.
userns_proc p alice
run as alice "$plain/newuidmap" "$p" 0 "$uid" 1 1 "$start" 65536
is "$rc $err" "1 newuidmap: write to uid_map failed: Operation not permitted" "the real newuidmap, not setuid: its message"
msg=$err
run "${AS[@]}" NEWUIDMAP="$plain/newuidmap" nskit-doctor --explain "$msg"
is "$rc" 0 "not setuid: a cause is found"
is "$(key)" newuidmap-eperm "the line is newuidmap's"
is "$(cause)" newuidmap "the cause is the newuidmap finding"
like "$out" "fix: as root: 'chmod u\+s $plain/newuidmap'" "with its fix"
run "${AS[@]}" NEWUIDMAP="$plain/newuidmap" nsenter-user true
like "$err" "newuidmap: write to uid_map failed: Operation not permitted" "nsenter-user's own message carries it"
run "${AS[@]}" NEWUIDMAP="$plain/newuidmap" nskit-doctor --explain "$err"
is "$rc $(cause)" "0 newuidmap" "nsenter-user's message: the same cause"
# buildah finds the helper through PATH.
run "${AS[@]:0:5}" env -i $(user_env alice) PATH="$plain:$PATH" buildah unshare true
like "$err" "should be setuid or have filecaps setuid" "buildah with the plain helper first in PATH warns"
run "${AS[@]:0:5}" env -i $(user_env alice) PATH="$plain:$PATH" nskit-doctor --explain - <<<"$err"
is "$rc" 0 "buildah's lines: causes found"
is "$(key)" "newgidmap-eperm storage-newgidmap-not-setgid storage-single-mapping newuidmap-eperm storage-newuidmap-not-setuid" "each of buildah's lines is recognised once"
# "Falling back to single mapping" (after each helper's failure) names both.
is "$(cause)" "newgidmap newgidmap newuidmap newgidmap newuidmap newuidmap" "each names the helper"

# rootlesskit finds the helper through PATH too.
run "${AS[@]:0:5}" env -i $(user_env alice) PATH="$plain:$PATH" rootlesskit true
like "$err" "^\[rootlesskit:parent\] error: failed to setup UID/GID map: newuidmap [0-9]+ \[0 $uid 1 1 $start 65536\] failed: newuidmap: write to uid_map failed: Operation not permitted" "rootlesskit with the plain helper: its message"
run "${AS[@]:0:5}" env -i $(user_env alice) PATH="$plain:$PATH" nskit-doctor --explain - <<<"$err"
is "$rc $(key) $(cause)" "0 rootlesskit-uidmap-eperm newuidmap" "rootlesskit's line: the helper"

# --- cause 2: no_new_privs (setpriv --no-new-privs), with util-linux unshare.
run as alice setpriv --no-new-privs unshare --user --map-auto --map-root-user true
is "$rc $err" "1 newuidmap: write to uid_map failed: Operation not permitted" "unshare --map-auto under no_new_privs: newuidmap's message"
msg=$err
run as alice setpriv --no-new-privs nskit-doctor --explain "$msg"
is "$rc $(cause)" "0 no-new-privs" "run the same way, the doctor finds no_new_privs"
run as alice nskit-doctor --explain "$msg"
is "$rc $(cause)" "1 not" "run without it: no cause found"
run as alice setpriv --no-new-privs rootlesskit true
like "$err" "failed to setup UID/GID map: newuidmap .* failed: newuidmap: write to uid_map failed: Operation not permitted" "rootlesskit under no_new_privs: its message"
run as alice setpriv --no-new-privs nskit-doctor --explain - <<<"$err"
is "$rc $(key) $(cause)" "0 rootlesskit-uidmap-eperm no-new-privs" "rootlesskit's line: no_new_privs"
like "$out" $'ruled out:\n  userns-apparmor: .*\n  newuidmap: /usr/bin/newuidmap is setuid root' "the helper is ruled out"
like "$out" $'not tested:\n  no-new-privs: no_new_privs is not set for nskit-doctor itself, which may differ' \
	"no_new_privs is not ruled out: the program that failed may have it"

# --- cause 3: a nested namespace whose map lacks alice's range.
bg N unshare --user sleep 600
i=0; while [ "$(readlink /proc/$N/ns/user)" = "$(readlink /proc/self/ns/user)" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
[ $i -lt 500 ] || echo "# timeout waiting for the namespace of $N"
run idmap-apply -m 0:0:65536 "$N"
is "$rc" 0 "a namespace mapping host ids 0-65535 only"
run nsenter --user --target "$N" "${AS[@]}" unshare --user --map-auto --map-root-user true
is "$rc $err" "1 newuidmap: write to uid_map failed: Operation not permitted" "unshare --map-auto inside it: newuidmap's message"
run nsenter --user --target "$N" "${AS[@]}" nskit-doctor --explain "$err"
is "$rc $(cause)" "0 parent-map" "inside it, the cause is parent-map"
run nsenter --user --target "$N" "${AS[@]}" buildah unshare true
like "$err" "/usr/bin/newgidmap should be setgid or have filecaps setgid" "buildah there blames the helper"
run nsenter --user --target "$N" "${AS[@]}" nskit-doctor --explain - <<<"$err"
is "$rc" 0 "buildah's lines inside it: causes found"
is "$(cause | tr ' ' '\n' | sort -u | paste -sd' ')" "parent-map" "every line's cause is parent-map, not the helper"

# --- cause 4: AppArmor's restriction.
if [ -e /proc/sys/kernel/apparmor_restrict_unprivileged_userns ]; then
	skip "apparmor: userns restricted" "not written: this test has not been run on a kernel with the switch"
else
	# This kernel has no such switch: the cause is ruled out, for real.
	run as alice nskit-doctor --explain "$msg"
	like "$out" "userns-apparmor: kernel.apparmor_restrict_unprivileged_userns is not present" "without the switch it is ruled out"
fi

# --- ranges: missing (bob), too small (carol).
tarball="$NSKIT_SANDBOX/img.tar"
mkdir -p "$NSKIT_SANDBOX/img"
echo x > "$NSKIT_SANDBOX/img/f"
tar -C "$NSKIT_SANDBOX/img" --owner=5000 --group=5000 -cf "$tarball" f
chmod 0644 "$tarball"
mkuser bob
subid-alloc --release bob >/dev/null
run as bob rootlesskit true
# Its child may also say "[rootlesskit:child ] error: parsing message from
# fd 3: EOF", depending on which of the two is first: the parent's line is
# the message.
is "$(printf '%s\n' "$err" | grep '^\[rootlesskit:parent\]')" "[rootlesskit:parent] error: failed to setup UID/GID map: failed to compute uid/gid map: No subuid ranges found for user $(id -u bob) (\"bob\")" "rootlesskit without ranges: its message"
run as bob nskit-doctor --explain "$err"
is "$rc $(key) $(cause)" "0 rootlesskit-no-subuid subuid-range" "rootlesskit's line: no subuid range"
run as bob podman import "$tarball" localhost/t
like "$err" "no subuid ranges found for user" "podman without ranges says so"
like "$err" "potentially insufficient UIDs or GIDs available in user namespace \(requested 5000:5000 for /f\)" "and fails on the layer"
run as bob nskit-doctor --explain - <<<"$err"
is "$rc" 0 "podman's lines without ranges: causes found"
is "$(cause | tr ' ' '\n' | sort -u | paste -sd' ')" "root-shared subgid-range subid-requested subuid-range" "missing ranges are the cause (and podman's warning about /)"

mkuser carol
cs=$(awk -F: -v u=carol '$1==u{print $2; exit}' /etc/subuid)
sed -i '/^carol:/d' /etc/subuid /etc/subgid
echo "carol:$cs:1000" >> /etc/subuid
echo "carol:$cs:1000" >> /etc/subgid
run as carol podman import "$tarball" localhost/t
like "$err" "potentially insufficient UIDs or GIDs available in user namespace \(requested 5000:5000 for /f\)" "podman with 1000 ids fails on uid 5000"
run as carol nskit-doctor --explain - <<<"$err"
is "$rc $(cause)" "0 root-shared subid-requested subuid-size subgid-size" "too small: the id asked for is beyond the range (and the ranges are too small)"
like "$(flat)" "the message asks for uid 5000 inside the namespace, but 'carol' has 1000 subordinate uids" "it says by how much"
# The container's user beyond the 1000 ids: runc cannot become it.
mkdir -p "$NSKIT_SANDBOX/img2/etc"
tar -C "$NSKIT_SANDBOX/img2" --owner=0 --group=0 -cf "$NSKIT_SANDBOX/img2.tar" etc
chmod 0644 "$NSKIT_SANDBOX/img2.tar"
run as carol podman import "$NSKIT_SANDBOX/img2.tar" localhost/empty
is "$rc" 0 "an image of root's files imports with 1000 ids"
# The message is runc's, so runc is asked for: podman's default runtime is
# crun where it is installed (Debian's podman prefers it), and crun refuses
# to start anything where cgroups are v1 or hybrid ("cgroups in hybrid mode
# not supported"), whatever the ids.
if command -v runc >/dev/null; then
	run as carol podman --runtime runc run --rm --network none --user 4000 localhost/empty /x
	like "$err" "unable to setup user: invalid argument" "podman --runtime runc run --user 4000 with 1000 ids: runc's message"
	run as carol nskit-doctor --explain - <<<"$err"
	is "$rc $(key | tr ' ' '\n' | grep -c runc-setup-user) $(cause | tr ' ' '\n' | grep -c subuid-size)" "0 1 1" "runc's line: the range is too small"
else
	skip "podman --runtime runc run --user 4000 with 1000 ids: runc's message" "runc is not installed (scripts/install-deps installs it)"
	skip "runc's line: the range is too small" "runc is not installed"
fi
userns_proc pc carol
run as carol newuidmap "$pc" 0 "$(id -u carol)" 1 1 "$cs" 5001
is "$err" "newuidmap: uid range [1-5002) -> [$cs-$((cs + 5001))) not allowed" "newuidmap asked for more than the range: its message"
run as carol nskit-doctor --explain "$err"
is "$rc $(cause)" "0 subid-requested" "newuidmap's range message: the ids asked for are outside the range"
like "$(flat)" "asks for host uids $cs-$((cs + 5000)), outside the subordinate uid ranges of 'carol' \($cs-$((cs + 999))\)" "and names both"

# --- a missing helper: /usr/bin/newuidmap not executable (util-linux unshare).
: > "$NSKIT_SANDBOX/noexec"
chmod 0644 "$NSKIT_SANDBOX/noexec"
mount --bind "$NSKIT_SANDBOX/noexec" /usr/bin/newuidmap
run as alice unshare --user --map-auto --map-root-user true
is "$rc $err" "126 unshare: failed to execute newuidmap: Permission denied" "unshare without an executable newuidmap: its message"
run as alice nskit-doctor --explain "$err"
is "$rc $(cause)" "0 newuidmap" "the cause is newuidmap"
run as alice buildah unshare true
like "$err" 'finding newuidmap: exec: \\"newuidmap\\": executable file not found in \$PATH' "buildah's message"
run as alice nskit-doctor --explain - <<<"$err"
is "$rc $(cause)" "0 newuidmap" "buildah's: the cause is newuidmap"
umount /usr/bin/newuidmap

# --- max_user_namespaces 0 in a namespace of alice's (per namespace): bwrap
# and unshare cannot make one below it.
run as alice unshare --user --map-root-user sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && bwrap --unshare-user --ro-bind / / true; unshare --user true; exit 0'
is "$err" "bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)
unshare: unshare failed: No space left on device" "bwrap's and unshare's messages"
msg=$err
run as alice unshare --user --map-root-user sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec nskit-doctor --explain -' <<<"$msg"
is "$rc $(key) $(cause)" "0 bwrap-enospc unshare-failed userns-max userns-create userns-max userns-create" "both: max_user_namespaces is 0 (so the probe fails too)"
isnt "$(cat /proc/sys/user/max_user_namespaces)" 0 "the machine's limit is untouched"

# --- / not shared (the sandbox's / is private).
run as alice podman unshare true
like "$err" "is not a shared mount, this could cause issues" "podman warns about /"
run as alice nskit-doctor --explain - <<<"$err"
is "$rc $(cause)" "0 root-shared" "the cause is root-shared"

# --- XDG_RUNTIME_DIR: podman 4.3.1's 'podman info' does not refuse a
# foreign folder, so its message is quoted from its binary here ('podman
# unshare' does refuse it: live-explain.sh runs that).
run "${AS[@]}" XDG_RUNTIME_DIR="$NSKIT_SANDBOX/run/0" nskit-doctor --explain \
	"Error: XDG_RUNTIME_DIR directory \"$NSKIT_SANDBOX/run/0\" is not owned by the current user"
is "$rc $(cause)" "0 xdg-runtime-dir" "a foreign XDG_RUNTIME_DIR: the cause is xdg-runtime-dir"
run as alice nskit-doctor --explain "Error: XDG_RUNTIME_DIR directory \"/x\" is not owned by the current user"
is "$rc $(cause)" "1 not" "alice's own folder: not found"

# --- only the probes a message needs: the root-shared line runs no probe.
run as alice strace -f -e trace=unshare -o "$NSKIT_SANDBOX/tmp/trace" nskit-doctor --explain "\"/\" is not a shared mount, this could cause issues or missing mounts with rootless containers"
if [ "$rc" = 127 ] || ! command -v strace >/dev/null; then
	skip "the root-shared line makes no user namespace" "strace is not installed"
else
	is "$(grep -c 'unshare(' "$NSKIT_SANDBOX/tmp/trace")" 0 "the root-shared line makes no user namespace"
fi

# --- nskit-doctor(1) lists every message of the table.
missing=
for k in $(grep -oP '^\t\{ "\K[a-z0-9-]+(?=", )' "$NSKIT_TOP/doctor/nskit-doctor/causes.c"); do
	grep -qF ".B ${k//-/\\-}" "$NSKIT_TOP/man/nskit-doctor.1" || missing="$missing $k"
done
is "$(grep -cP '^\t\{ "[a-z0-9-]+", ' "$NSKIT_TOP/doctor/nskit-doctor/causes.c") ${missing:-none missing}" "$(grep -c '^Printed by' "$NSKIT_TOP/man/nskit-doctor.1") none missing" \
	"nskit-doctor(1) has an entry for each message of causes.c"

# --- usage and what is not known.
run as alice nskit-doctor --explain "all is well"
is "$rc $out" "1 no line of the input is a message nskit-doctor knows (see nskit-doctor(1), EXPLAIN)" "an unknown line: exit 1"
expect_fail 2 "nskit-doctor: --explain needs the message (or - for standard input)
Try 'nskit-doctor --help' for more information." "an empty message: exit 2" nskit-doctor --explain ""
expect_fail 2 "nskit-doctor: --fix and --explain do not go together
Try 'nskit-doctor --help' for more information." "--fix with --explain: exit 2" nskit-doctor --fix --explain x

done_testing
