#!/bin/bash
# A real client runs the shifted tree (issue 22, part 3). A root file
# system made as root from the host's own packages (base-files, libc6,
# bash, coreutils, login, passwd, iputils-ping, util-linux, acl, attr...),
# with root's files, group shadow (42), setuid root passwd and su, setgid
# shadow chage, ping with cap_net_raw=ep, a POSIX ACL naming a user and a
# group, and a user xattr, is shifted by `idmap-shift --auto=USER` into
# USER's rootless map. Then, as USER, rootless `podman run --rootfs` and
# `nsenter-user` + `chroot` both see the original owners, and inside the
# setuid and setgid programs, the capability and the ACL still work (each
# beside a copy without the bit, capability or ACL entry that must fail).
# `idmap-shift --reverse` gives back the tree, line for line against a
# manifest of every owner, mode, ACL, capability and xattr.
. "$NSKIT_TOP/tests/integration/lib.sh"

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v dpkg >/dev/null; then
	skip "podman run --rootfs of a shifted root file system" "podman, runc or dpkg (the tree is made of the host's packages) is not installed"
	done_testing
fi
mkuser sclient || exit 1
uid=$(id -u sclient)
sub=$(subid_start sclient)
subg=$(subid_start sclient subgid)
R=$NSKIT_SANDBOX/rootfs
st=$NSKIT_SANDBOX/state

# --- the tree, as root, from the host's packages ------------------------------
pkgs=(base-files base-passwd libc6 bash dash coreutils findutils grep login passwd
	iputils-ping libcap2 libcap2-bin libacl1 acl libattr1 attr util-linux)
# dpkg -L prints paths, and also lines such as "diversion by dash from:
# /bin/sh" or "package diverts others to: ...": only lines that are a path.
paths() { dpkg -L "$@" 2>/dev/null | grep '^/' | grep -v ' ' | sed 's|^/||'; }
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || bail "the package $p is not installed (scripts/install-deps installs it)"
done
list=$NSKIT_SANDBOX/rootfs.list
paths "${pkgs[@]}" | sort -u > "$list"
# The libraries the programs load (ldd), by package (dpkg -S, whose
# diversion lines are left out the same way), each whole.
libs=$(cd / && grep -E '^(usr/)?s?bin/' "$list" | while read -r f; do
		[ -f "$f" ] && [ ! -L "$f" ] && [ -x "$f" ] && echo "/$f"
	done | xargs ldd 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
mapfile -t libpkgs < <(for l in $libs; do echo "$l"; readlink -f "$l"; done | sort -u | xargs dpkg -S 2>/dev/null |
	grep -v '^diversion ' | grep -E '^[^ ]+: /' | sed 's/: [^ ]*$//; s/, /\n/g' | sed 's/:[a-z0-9]*$//' | sort -u)
[ "${#libpkgs[@]}" -gt 0 ] || bail "no library package found by dpkg -S"
paths "${libpkgs[@]}" | sort -u >> "$list"
sort -u -o "$list" "$list"
mkdir -p "$R"
# Debian 12 and 13 have merged /usr: the same links in the tree first, so
# that /bin/bash and /usr/bin/bash land on one file.
for d in bin lib lib64 sbin; do
	if [ -L "/$d" ]; then
		mkdir -p "$R/usr/$d"
		ln -s "$(readlink "/$d")" "$R/$d"
	fi
done
tar --xattrs --xattrs-include='*' --acls --no-recursion -C / -cf - -T "$list" |
	tar --xattrs --xattrs-include='*' --acls -C "$R" -xpf -
is "${PIPESTATUS[*]}" "0 0" "tar copies every file of the packages, xattrs and ACLs with them"
check "the tree holds bash, passwd, chage, su and ping from the host" \
	test -x "$R/bin/bash" -a -u "$R/usr/bin/passwd" -a -g "$R/usr/bin/chage" -a -u "$R/usr/bin/su" -a -x "$R/usr/bin/ping"
mkdir -p "$R/proc" "$R/sys" "$R/dev" "$R/run" "$R/tmp" "$R/srv/share" "$R/home/ann" "$R/root"
chmod 1777 "$R/tmp"
chmod 700 "$R/root"
cat > "$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
ann:x:1000:1000:Ann:/home/ann:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > "$R/etc/group" <<'EOF'
root:x:0:
shadow:x:42:
ann:x:1000:
nogroup:x:65534:
EOF
cat > "$R/etc/shadow" <<'EOF'
root:*:19000:0:99999:7:::
ann:$6$nskit$0123456789abcdef:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' > "$R/etc/nsswitch.conf"
# What podman mounts over in a --rootfs, and makes there when it is
# missing (a change to the tree that is not the shift): made here, as an
# image has them.
: > "$R/etc/hosts"
: > "$R/etc/hostname"
: > "$R/etc/resolv.conf"
: > "$R/run/.containerenv"
ln -sfn ../proc/self/mounts "$R/etc/mtab"
chown 0:42 "$R/etc/shadow"
chmod 640 "$R/etc/shadow"
chown 1000:1000 "$R/home/ann"
chmod 700 "$R/home/ann"
# Controls: the same programs without their setuid bit or capability.
cp -p "$R/usr/bin/passwd" "$R/usr/bin/passwd-nosuid"
chmod 755 "$R/usr/bin/passwd-nosuid"
cp "$R/usr/bin/ping" "$R/usr/bin/ping-nocap"
# ping's capability: the package's postinst sets it; set it if it did not.
[ -n "$(getcap "$R/usr/bin/ping")" ] || setcap cap_net_raw=ep "$R/usr/bin/ping"
# A v3 capability, for the root of a namespace whose root is 1000 (made in
# ann's own namespace): its rootid is shifted like an owner, and it gives
# nothing in the container, whose root is 0.
cp "$R/usr/bin/ping" "$R/usr/bin/ping-v3"
setcap -n 1000 cap_net_raw=ep "$R/usr/bin/ping-v3"
# A file root owns, mode 0640, that ann reads through a user entry and
# group shadow through a group entry; a default ACL on its folder.
echo "shared" > "$R/srv/share/file"
chmod 640 "$R/srv/share/file"
setfacl -m u:1000:r,g:42:r "$R/srv/share/file"
echo "no entry for ann" > "$R/srv/share/closed"
chmod 640 "$R/srv/share/closed"
setfacl -m g:42:r "$R/srv/share/closed"
setfacl -d -m u:1000:rwx,g:42:rx "$R/srv/share"
setfattr -n user.origin -v "nskit client test" "$R/srv/share/file"

# manifest DIR: every path, its type, mode (setuid bits too), owner, size,
# mtime and link target, as numbers; then every ACL (getfacl -n), every
# capability (getcap -n: v3 rootids too) and every xattr in hex (getfattr), which hold the
# ACLs' and v3 capabilities' ids byte for byte.
manifest() {
	(cd "$1" && find . -printf '%p %y %m %U:%G s=%s m=%T@ l=%l\n' | LC_ALL=C sort &&
		getfacl -R -P -n -p . 2>/dev/null | grep -v '^$' &&
		getcap -n -r . 2>/dev/null | LC_ALL=C sort &&
		getfattr -R -h -d -m - -e hex . 2>/dev/null | awk '/^# file: / { f = substr($0, 9); if (f != "." && f !~ /^\.\//) f = "./" f; next } NF { print f, $0 }' | LC_ALL=C sort)
}
manifest "$R" > "$NSKIT_SANDBOX/manifest.before"
m=$NSKIT_SANDBOX/manifest.before
is "$(grep -cE '^(user:1000:r--|group:42:r--|default:user:1000:rwx|default:group:42:r-x)$' "$m")|$(grep -c '^\./usr/bin/ping security\.capability=0x' "$m")|$(grep -c '^\./srv/share/file user\.origin=0x' "$m")" \
	"5|1|1" "the manifest holds the ACL entries naming 1000 and 42, ping's security.capability and the user xattr"
like "$(grep -E '^\./(etc/shadow|usr/bin/(passwd|su|chage|expiry|ping)) [a-z] ' "$m" | cut -d' ' -f1-4 | paste -sd,)" \
	'^./etc/shadow f 640 0:42,./usr/bin/chage f 2755 0:42,./usr/bin/expiry f 2755 0:42,./usr/bin/passwd f 4755 0:0,./usr/bin/ping f 755 0:0,./usr/bin/su f 4755 0:0$' \
	"the tree: shadow's files of group 42, setuid root passwd and su, setgid chage and expiry"
like "$(grep -E '^\./usr/bin/ping(-nocap|-v3)? ' "$m" | grep cap_ | paste -sd,)" '^\./usr/bin/ping cap_net_raw=ep,\./usr/bin/ping-v3 cap_net_raw=ep \[rootid=1000\]$' \
	"the tree: ping has cap_net_raw=ep, its v3 copy the same for rootid 1000, its plain copy none"
is "$(grep -c '^# file:' "$m")" "$(cd "$R" && find . ! -type l | wc -l)" "the manifest holds an ACL block for every path but symlinks"
files=$(cd "$R" && find . | wc -l)
diag "the tree: $files paths, $(du -sm "$R" | cut -f1) MiB, packages: $(printf '%s\n' "${pkgs[@]}" "${libpkgs[@]}" | sort -u | paste -sd' ')"

# --- what is looked at inside -------------------------------------------------
# As root inside, from /: ls -ln of the files that matter, their ACLs,
# ping's capability, the user xattr, then every path with its type, mode
# and owner (what the runtime mounts over left out). The same on the host
# in the tree before the shift is what must be seen.
keyfiles="etc/passwd etc/shadow home/ann srv/share srv/share/file usr/bin/chage usr/bin/expiry usr/bin/passwd usr/bin/ping usr/bin/su"
rootlook="ls -lnd --time-style=+%s $keyfiles && echo -- &&
	getfacl -cpn srv/share/file srv/share && echo -- &&
	getcap -n usr/bin/ping usr/bin/ping-nocap usr/bin/ping-v3 && getfattr -n user.origin --only-values srv/share/file && echo && echo -- &&
	find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \\
		-o -path ./etc/hosts -o -path ./etc/hostname -o -path ./etc/resolv.conf \\) -prune -o -printf '%p %y %m %U:%G\\n' | LC_ALL=C sort"
want_root=$(cd "$R" && bash -c "$rootlook")
like "$want_root" "^-rw-r----- +1 +0 +42 .* etc/shadow\$" "the look: /etc/shadow 0:42 in the tree before the shift"
is "$(grep -c ' [0-9]*:[0-9]*$' <<<"$want_root")" "$(cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp -o -path ./etc/hosts -o -path ./etc/hostname -o -path ./etc/resolv.conf \) -prune -o -print | wc -l)" \
	"the look lists every path but the runtime's mount points"
# As ann (1000, no capability of its own) inside, each line "NAME rc=RC
# OUTPUT": the setuid root passwd reads /etc/shadow, which ann cannot, and
# its copy without the bit cannot; the setgid shadow chage reads it; ping
# opens its socket through its capability alone (its copy without one
# cannot: no ping group either); ann reads a 0640 root file through its
# ACL entry, not one whose ACL names only group shadow.
annlook='set -f; t() { n=$1; shift; o=$("$@" 2>&1); echo "$n rc=$? $(echo $o)"; }
t id id -u
t groups id -G
t caps grep -E "^Cap(Prm|Eff|Amb)" /proc/self/status
t bounding sh -c "grep ^CapBnd /proc/self/status"
t shadow cat /etc/shadow
t passwd passwd -S
t passwd-nosuid passwd-nosuid -S
t chage chage -l ann
t ping ping -c1 -W5 127.0.0.1
t ping-nocap ping-nocap -c1 -W5 127.0.0.1
t ping-v3 ping-v3 -c1 -W5 127.0.0.1
t acl cat /srv/share/file
t acl-closed cat /srv/share/closed'
# same GOT WANT DESC: is, with a diff (at most 40 lines) when they differ
same() {
	is "$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$1") | head -40)" "" "$3"
}
# annchecks WHERE: the lines of $out, one assertion each
annchecks() {
	local w=$1 l
	l() { grep "^$1 rc=" <<<"$out"; }
	is "$(l id)|$(l groups)" "id rc=0 1000|groups rc=0 1000" "$w: ann is 1000, in no other group"
	is "$(l caps)" "caps rc=0 CapPrm: 0000000000000000 CapEff: 0000000000000000 CapAmb: 0000000000000000" "$w: ann has no capability of its own"
	like "$(l bounding)" '^bounding rc=0 CapBnd: [0-9a-f]*[2367abef][0-9a-f]{3}$' "$w: cap_net_raw (13) is in the bounding set"
	is "$(l shadow)" "shadow rc=1 cat: /etc/shadow: Permission denied" "$w: ann cannot read /etc/shadow (0:42 0640)"
	like "$(l passwd)" '^passwd rc=0 ann P [0-9/-]+ 0 99999 7 -1$' "$w: setuid root passwd -S reads ann's line of /etc/shadow"
	unlike "$(l passwd-nosuid)" '99999' "$w: ... its copy without the setuid bit cannot"
	like "$(l chage)" '^chage rc=0 Last password change +: Jan 08, 2022 .*Maximum number of days between password change +: 99999 ' \
		"$w: setgid shadow chage -l reads it too"
	like "$(l ping)" '^ping rc=0 PING 127\.0\.0\.1 .* 1 packets transmitted, 1 received' "$w: ping 127.0.0.1 as ann, through cap_net_raw=ep"
	like "$(l ping-nocap)" '^ping-nocap rc=[1-9][0-9]* .*socket: Operation not permitted' "$w: ... its copy without the capability cannot"
	like "$(l ping-v3)" '^ping-v3 rc=[1-9][0-9]* .*socket: Operation not permitted' "$w: ... nor its copy whose v3 capability is for the root of a namespace of 1000"
	is "$(l acl)" "acl rc=0 shared" "$w: ann reads a 0640 root:root file through the ACL's user entry"
	is "$(l acl-closed)" "acl-closed rc=1 cat: /srv/share/closed: Permission denied" "$w: ... and not one whose ACL names only group 42"
}

# --- rootless podman before the shift: the image's ids are not the user's ------
P="podman --storage-driver vfs --runtime runc"
# File locks in the user's runtime folder, not shm locks in the machine's
# /dev/shm (as podman.sh). cap_net_raw in the bounding set of every
# container (podman's default set leaves it out), and so in no set of a
# user other than root (with --cap-add NET_RAW, podman 4.3 gives it to
# --user 1000 as well: the copy of ping without a capability then works).
caps=$(sed -n '/^default_capabilities = \[/,/\]/p' /usr/share/containers/containers.conf | grep -o '"[A-Z_]*"' | paste -sd,)
[ -n "$caps" ] || caps='"CHOWN","DAC_OVERRIDE","FOWNER","FSETID","KILL","NET_BIND_SERVICE","SETFCAP","SETGID","SETPCAP","SETUID","SYS_CHROOT"'
mkdir -p "$NSKIT_SANDBOX/home/sclient/.config/containers"
printf '[containers]\ndefault_capabilities = [%s,"NET_RAW"]\n[engine]\nlock_type = "file"\n' "$caps" \
	> "$NSKIT_SANDBOX/home/sclient/.config/containers/containers.conf"
chown -R sclient: "$NSKIT_SANDBOX/home/sclient/.config"
run as sclient $P unshare stat -c %u:%g "$R/etc/shadow" "$R/usr/bin/passwd"
is "$rc|$out" "0|65534:65534
65534:65534" "before the shift, the user's namespace sees nobody where the tree says 0:42 and 0:0"

# --- the shift ----------------------------------------------------------------
run idmap-shift --no-progress --state-dir "$st" --json --auto=sclient "$R"
is "$rc|$err" "0|" "idmap-shift --auto=sclient ROOTFS, as root"
like "$out" "^\\{\"files\":$files,\"changed\":$files,\"acls\":3,\"capabilities\":2,.*\"unmapped\":0,.*\"errors\":0," \
	"... every path changed, the 3 ACLs and the 2 capabilities with them"
is "$(stat -c '%u:%g' "$R/etc/shadow" "$R/home/ann" "$R/srv/share/file" | paste -sd,)" \
	"$uid:$((subg + 41)),$((sub + 999)):$((subg + 999)),$uid:$(id -g sclient)" \
	"on the host: 0 is sclient, 42 and 1000 its subordinate ids 42 and 1000"
is "$(getfacl -cpn "$R/srv/share/file" | grep -E '^(user|group):[0-9]' | paste -sd,)" \
	"user:$((sub + 999)):r--,group:$((subg + 41)):r--" "on the host: the ACL's ids shifted the same way"
is "$(stat -c %a "$R/usr/bin/passwd" "$R/usr/bin/chage" | paste -sd,)" "4755,2755" "on the host: the setuid and setgid bits kept"
is "$(cd "$R" && getcap -n usr/bin/ping usr/bin/ping-v3)" "usr/bin/ping cap_net_raw=ep
usr/bin/ping-v3 cap_net_raw=ep [rootid=$((sub + 999))]" "on the host: ping's v2 capability kept as it is (valid in every namespace), the v3 rootid 1000 shifted like an owner"
manifest "$R" > "$NSKIT_SANDBOX/manifest.shifted"

# --- rootless podman run --rootfs ---------------------------------------------
run as sclient $P run --rm --network none --rootfs "$R" /bin/bash -c "cd / && $rootlook"
is "$rc" 0 "podman run --rootfs, as sclient"
same "$out" "$want_root" "podman: ls -ln, the ACLs, ping's capability, the xattr and every path's owner are those of the tree before the shift"
run as sclient $P run --rm --network none --user 1000:1000 --sysctl net.ipv4.ping_group_range="1 0" --rootfs "$R" /bin/bash -c "$annlook"
is "$rc" 0 "podman run --user 1000:1000 --rootfs, as sclient"
annchecks podman

# --- nsenter-user + chroot ----------------------------------------------------
# A network namespace of its own (owned by the user's namespace, where ping
# needs cap_net_raw and no group may ping: the kernel's default range),
# its lo up (SIOCSIFFLAGS from perl-base: iproute2 is not in a minimal
# Debian), and a /proc of its pid namespace on the tree's /proc (a mount,
# not a change of the tree).
lo_up='socket(my $s, 2, 2, 0) or die "socket: $!\n"; my $r = pack("a16 x24", "lo");
	ioctl($s, 0x8913, $r) or die "SIOCGIFFLAGS lo: $!\n"; my $f = unpack("x16 s", $r);
	ioctl($s, 0x8914, pack("a16 s x22", "lo", $f | 1)) or die "SIOCSIFFLAGS lo: $!\n"'
ns() { as sclient nsenter-user unshare --net --pid --fork --mount-proc="$R/proc" sh -c 'perl -e "$1" && shift && exec chroot "$@"' sh "$lo_up" "$R" "$@"; }
run ns /bin/bash -c "cd / && $rootlook"
is "$rc" 0 "nsenter-user + chroot, as sclient"
same "$out" "$want_root" "nsenter-user + chroot: the same owners, ACLs, capability and xattr as the tree before the shift"
run ns setpriv --reuid=1000 --regid=1000 --clear-groups /bin/bash -c "$annlook"
is "$rc" 0 "nsenter-user + chroot + setpriv to ann"
annchecks nsenter-user
manifest "$R" > "$NSKIT_SANDBOX/manifest.ran"
same "$(cat "$NSKIT_SANDBOX/manifest.ran")" "$(cat "$NSKIT_SANDBOX/manifest.shifted")" "the runs left the shifted tree as it was"

# --- back ---------------------------------------------------------------------
run idmap-shift --no-progress --state-dir "$st" --json --reverse --auto=sclient "$R"
is "$rc|$err" "0|" "idmap-shift --reverse --auto=sclient ROOTFS"
like "$out" "^\\{\"files\":$files,\"changed\":$files,\"acls\":3,\"capabilities\":2," "... every path changed back"
manifest "$R" > "$NSKIT_SANDBOX/manifest.back"
is "$(wc -l < "$NSKIT_SANDBOX/manifest.back")" "$(wc -l < "$NSKIT_SANDBOX/manifest.before")" "the manifest has as many lines"
same "$(cat "$NSKIT_SANDBOX/manifest.back")" "$(cat "$NSKIT_SANDBOX/manifest.before")" \
	"every path's owner, mode, size, mtime, ACL, capability and xattr is as before the shift"
# The image used again: the same shift, after --reverse, as the first time.
run idmap-shift --no-progress --state-dir "$st" --auto=sclient "$R"
is "$rc|$err" "0|" "idmap-shift --auto=sclient again after --reverse"
manifest "$R" > "$NSKIT_SANDBOX/manifest.again"
same "$(cat "$NSKIT_SANDBOX/manifest.again")" "$(cat "$NSKIT_SANDBOX/manifest.shifted")" "... gives the tree of the first shift, line for line"

done_testing
