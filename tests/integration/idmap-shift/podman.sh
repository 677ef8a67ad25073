#!/bin/bash
# A real client: a rootfs shifted by idmap-shift for a user's default
# rootless map (--auto USER, as root: what containers/storage does on
# first use) is what a rootless `podman run --rootfs` of that user shows:
# the image's owners, setuid bit, ACL and capability, with no chown by
# podman. Unshifted, the same rootfs shows nobody (the test can fail).
# vfs, runc and --network none as in nsenter-user/podman-session.sh.
. "$NSKIT_TOP/tests/integration/lib.sh"

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	skip "podman run --rootfs of a shifted tree" "podman or runc is not installed"
	done_testing
fi
mkuser spod || exit 1
P="podman --storage-driver vfs --runtime runc"
# File locks in the user's runtime folder, not shm locks in the machine's
# /dev/shm (left behind, owned by a user the machine does not know).
mkdir -p "$NSKIT_SANDBOX/home/spod/.config/containers"
printf '[engine]\nlock_type = "file"\n' > "$NSKIT_SANDBOX/home/spod/.config/containers/containers.conf"
chown -R spod: "$NSKIT_SANDBOX/home/spod/.config"
root=$NSKIT_SANDBOX/rootfs
shell=$(readlink -f /bin/sh)
mkdir -p "$root/bin" "$root/etc" "$root/srv/data" "$root/proc" "$root/dev" "$root/sys"
for b in /usr/bin/stat /usr/bin/getfacl /usr/sbin/getcap /usr/bin/grep "$shell"; do
	cp "$b" "$root/bin/${b##*/}"
done
ln -s "${shell##*/}" "$root/bin/sh" 2>/dev/null || true
for l in $(ldd /usr/bin/stat /usr/bin/getfacl /usr/sbin/getcap /usr/bin/grep "$shell" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}' | grep -v ':$' | sort -u); do
	mkdir -p "$root${l%/*}"
	cp -L "$l" "$root$l"
done
echo x > "$root/etc/conf"
cp /bin/true "$root/bin/ping"
# The image's ids: root, and 5, 10, 1000 inside.
chown -R 0:0 "$root"
chown 5:6 "$root/etc/conf"
chown -R 1000:1000 "$root/srv/data"
chown 10:10 "$root/srv"
chmod 4755 "$root/bin/ping"
setcap cap_net_raw+ep "$root/bin/ping"
setfacl -m u:7:r "$root/etc/conf"
look='stat -c "%n %u:%g %a" / /etc/conf /srv /srv/data /bin/ping && getfacl -cpn /etc/conf | grep "^user:[0-9]" && getcap /bin/ping'
want="/ 0:0 755
/etc/conf 5:6 644
/srv 10:10 755
/srv/data 1000:1000 755
/bin/ping 0:0 4755
user:7:r--
/bin/ping cap_net_raw=ep"

# Not shifted: the user's namespace sees nobody where the image says 5.
run as spod $P unshare stat -c %u:%g "$root/etc/conf"
is "$rc|$out" "0|65534:65534" "before the shift, the user's namespace sees nobody (the host's 5 is not mapped)"

run idmap-shift --no-progress --state-dir "$NSKIT_SANDBOX/state" --json --auto=spod "$root"
is "$rc|$err" "0|" "idmap-shift --auto=spod ROOTFS, as root"
like "$out" '"acls":1,"capabilities":1' "... the ACL and the capability shifted with the owners"
sub=$(awk -F: '$1 == "spod" { print $2; exit }' /etc/subuid)
is "$(stat -c %u:%g "$root/etc/conf")" "$((sub + 4)):$((sub + 5))" "on the host, 5 is the 5th subordinate id"

run as spod $P run --rm --network none --rootfs "$root" /bin/sh -c "$look"
is "$rc|$out" "0|$want" "rootless podman run --rootfs: the container sees the image's owners, setuid bit, ACL and capability"
[ "$rc" = 0 ] || diag "$err"
is "$(stat -c %u:%g "$root/etc/conf")" "$((sub + 4)):$((sub + 5))" "... and podman did not chown the rootfs itself"

done_testing
