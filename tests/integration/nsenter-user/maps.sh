#!/bin/bash
# nsenter-user: the maps of the namespaces it creates, compared with the
# kernel's view and with `podman unshare` for the same user.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser nsone || exit 1
mkuser nstwo || exit 1
mkuser nsnosub || exit 1
one=$(id -u nsone) one_g=$(id -g nsone)
two=$(id -u nstwo) two_g=$(id -g nstwo)
s1=$(subid_start nsone)
# nstwo gets a second range (below its first, to check the order) in each file.
two_sub=$(sed -n "s/^nstwo:\([0-9]*\):.*/\1/p" /etc/subuid)
two_subg=$(sed -n "s/^nstwo:\([0-9]*\):.*/\1/p" /etc/subgid)
usermod --add-subuids 40000-49999 --add-subgids 50000-50099 nstwo
sed -i '/^nsnosub:/d' /etc/subuid /etc/subgid
# podman may lack a shared / or overlay here: vfs and cgroupfs keep it quiet.
# ~/.config is the user's, as a login makes it: podman 5 (Debian 13) refuses
# to start when it is not ("path ... exists and it is not owned by the
# current user"), podman 4 (Debian 12) did not look.
for u in nsone nstwo; do
	install -d -o "$u" -g "$(id -g "$u")" "$NSKIT_SANDBOX/home/$u/.config" "$NSKIT_SANDBOX/home/$u/.config/containers"
	printf '[storage]\ndriver = "vfs"\n' > "$NSKIT_SANDBOX/home/$u/.config/containers/storage.conf"
	chown "$u" "$NSKIT_SANDBOX/home/$u/.config/containers/storage.conf"
done

# --- default map: you to 0, then every subordinate range, as podman ---------
for u in nsone nstwo; do
	for t in uid gid; do
		run as "$u" podman unshare cat /proc/self/${t}_map
		want=$(printf '%s\n' "$out" | tr -s ' ' | sed 's/^ //')
		run as "$u" nsenter-user cat /proc/self/${t}_map
		got=$(printf '%s\n' "$out" | tr -s ' ' | sed 's/^ //')
		is "$rc" 0 "$u: nsenter-user runs (default $t map)"
		is "$got" "$want" "$u: default $t map equals podman unshare's"
	done
done
# nstwo has two ranges per file: both are mapped, lowest first.
run as nstwo nsenter-user cat /proc/self/uid_map
is "$(printf '%s\n' "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" \
	"0 $two 1|1 40000 10000|10001 $two_sub 65536" "nstwo: both subordinate uid ranges are mapped, sorted"
run as nstwo nsenter-user cat /proc/self/gid_map
is "$(printf '%s\n' "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" \
	"0 $two_g 1|1 50000 100|101 $two_subg 65536" "nstwo: both subordinate gid ranges are mapped, sorted"
run as nsone nsenter-user sh -c 'id -u; id -g; cat /proc/self/setgroups'
is "$out" "0
0
allow" "default: root inside, setgroups allowed (as podman unshare)"

# The process itself, seen from outside: its kernel map while it runs.
bg p as nsone nsenter-user sleep 60
i=0
while [ "$(cat /proc/$p/comm 2>/dev/null)" != sleep ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
is "$(kmap "$p" uid)" "0 $one 1|1 $s1 65536" "the kernel's uid_map of the command (seen from outside)"
is "$(kmap "$p" gid)" "0 $one_g 1|1 $s1 65536" "the kernel's gid_map of the command"
kill "$p"

# --join PID into podman's own rootless namespace (its pause process).
pause=$(cat "$NSKIT_SANDBOX/run/$one/libpod/tmp/pause.pid" 2>/dev/null)
run as nsone nsenter-user --join "$pause" cat /proc/self/uid_map
want=$(tr -s ' ' < "/proc/$pause/uid_map")
is "$rc:$(printf '%s\n' "$out" | tr -s ' ')" "0:$want" "--join PID enters podman's pause process namespace"
run as nsone nsenter-user --join "$pause" sh -c 'readlink /proc/self/ns/user /proc/self/ns/mnt'
is "$out" "$(readlink /proc/$pause/ns/user /proc/$pause/ns/mnt)" "--join PID: same user and mount namespace"

# --- other mapping modes -------------------------------------------------------
run as nsone nsenter-user -r sh -c 'cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u'
is "$(printf '%s\n' "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" "0 $one 1|0 $one_g 1|deny|0" \
	"--map-root: one id each, setgroups deny, root inside"
run as nsone nsenter-user -k sh -c 'cat /proc/self/uid_map; id -u; id -g'
is "$(printf '%s\n' "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" \
	"0 $s1 $one|$one $one 1|$((one + 1)) $((s1 + one)) $((65536 - one))|$one|$one_g" \
	"--keep-id: you stay yourself, subordinate ids around you"
run as nsone nsenter-user -m 0:"$one":1 -u 1:$s1:10 -g 1:$((s1 + 10)):5 sh -c 'cat /proc/self/uid_map /proc/self/gid_map'
is "$(printf '%s\n' "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" \
	"0 $one 1|1 $s1 10|0 $one_g 1|1 $((s1 + 10)) 5" "explicit -m/-u/-g extents"
printf '# a map stream\nb 0 %s 1\nu 1 %s 1000\ng 1 %s 2000\n' "$one" "$s1" "$s1" > "$NSKIT_SANDBOX/tmp/map.txt"
chmod 644 "$NSKIT_SANDBOX/tmp/map.txt"
run as nsone nsenter-user --map-file "$NSKIT_SANDBOX/tmp/map.txt" sh -c 'cat /proc/self/uid_map /proc/self/gid_map'
is "$(printf '%s\n' "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" \
	"0 $one 1|1 $s1 1000|0 $one 1|1 $s1 2000" "--map-file FILE"
run as nsone sh -c "nsenter-user --map-file - cat /proc/self/uid_map < $NSKIT_SANDBOX/tmp/map.txt"
is "$(printf '%s\n' "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" "0 $one 1|1 $s1 1000" "--map-file - (stdin)"
run as nsone nsenter-user -U 5 -G 6 sh -c 'id -u; id -g'
is "$(echo $out)" "5 6" "-U/-G: become another id inside"

# --- refusals: one line, exit 1 ----------------------------------------------------
one_sub=$(awk -F: '$1=="nsone"{print $2}' /etc/subuid)
one_cnt=$(awk -F: '$1=="nsone"{print $3}' /etc/subuid)
two_ranges=$(awk -F: '$1=="nstwo"{print $2, $2 + $3 - 1}' /etc/subuid | sort -n | awk '{printf "%s%s-%s", (NR > 1 ? ", " : ""), $1, $2}')
expect_fail 1 "nsenter-user: cannot map uid range $one_sub-$((one_sub + 9)): not in /etc/subuid for 'nstwo' (nstwo's ranges: $two_ranges)" \
	"another user's range: the caller's own ranges are named, in order" as nstwo nsenter-user -m 0:"$two":1 -m 1:"$one_sub":10 true
expect_fail 1 "nsenter-user: cannot map uid range $one_sub-$((one_sub + 9)): not in /etc/subuid for 'nsnosub' (run 'subid-alloc nsnosub' as root)" \
	"no ranges at all: the subid-alloc fix" as nsnosub nsenter-user -m 0:"$(id -u nsnosub)":1 -m 1:"$one_sub":10 true
expect_fail 1 "nsenter-user: no subordinate uid range for 'nsnosub' in /etc/subuid (run 'subid-alloc nsnosub' as root, or use --map-root)" \
	"no subordinate ranges: the fix is named" as nsnosub nsenter-user true
run as nsnosub nsenter-user -r id -u
is "$rc:$out" "0:0" "no subordinate ranges: --map-root still works"
expect_fail 1 "nsenter-user: cannot map uid range 500000-500009: not in /etc/subuid for 'nsone' (nsone's ranges: $one_sub-$((one_sub + one_cnt - 1)))" \
	"a range that is not yours is refused before anything runs" as nsone nsenter-user -m 0:"$one":1 -m 1:500000:10 true
expect_fail 1 "nsenter-user: invalid map 'x:1:1': invalid inside id 'x'" \
	"a bad map spec" as nsone nsenter-user -m x:1:1 true
expect_fail 1 "nsenter-user: cannot become uid 7 inside: the uid map does not map it (see --uid)" \
	"-U of an unmapped id" as nsone nsenter-user -r -U 7 true
expect_fail 1 "nsenter-user: --auto, --map-root, --keep-id, --uid-map/--gid-map/--map, --map-file and --no-map are mutually exclusive
Try 'nsenter-user --help' for more information." "conflicting map options" as nsone nsenter-user -r -k true

# --- --no-map: the caller maps with idmap-apply between --info-fd and --block-fd
info=$NSKIT_SANDBOX/tmp/info block=$NSKIT_SANDBOX/tmp/block res=$NSKIT_SANDBOX/tmp/nomap.out
mkfifo "$info" "$block"
chmod 666 "$info" "$block"
# Both fifos are held open read-write here, so that no open(2) blocks.
exec 5<>"$block" 6<>"$info"
bg nm as nsone sh -c "exec nsenter-user --no-map --info-fd 3 --block-fd 4 sh -c 'id -u; cat /proc/self/uid_map' >$res 2>&1" 3>"$info" 4<"$block" 5>&- 6>&-
read -r json <&6
exec 6>&-
npid=$(printf '%s' "$json" | sed -n 's/^{"pid":\([0-9]*\),"userns":\([0-9]*\)}$/\1/p')
nino=$(printf '%s' "$json" | sed -n 's/^{"pid":\([0-9]*\),"userns":\([0-9]*\)}$/\2/p')
is "$npid" "$nm" "--info-fd: the pid of the process (no process in between)"
is "$nino" "$(stat -L -c %i /proc/$nm/ns/user)" "--info-fd: the inode of its new user namespace"
is "$(kmap "$nm" uid)" "" "--no-map: no map before the caller writes one"
run as nsone idmap-apply "$nm"
is "$rc" 0 "idmap-apply maps the waiting process"
exec 5>&-
wait "$nm"
is "$?:$(tr -s ' ' < "$res" | sed 's/^ //' | paste -sd'|')" "0:0|0 $one 1|1 $s1 65536" \
	"--block-fd closed: the command runs as root with the caller's map"
rm -f "$info" "$block"
run as nsone nsenter-user --no-map id -u
is "$rc:$out" "0:65534" "--no-map alone: unmapped, the overflow uid"
expect_fail 1 "nsenter-user: --info-fd and --block-fd go with --no-map
Try 'nsenter-user --help' for more information." "--block-fd without --no-map" as nsone sh -c "exec nsenter-user --block-fd 3 true 3</dev/null"

done_testing
