#!/bin/bash
# useradd treats a missing /etc/subuid or /etc/subgid as "subordinate ids
# are off" and never creates it (shadow's tests/subids case 01); subid-alloc
# refuses the same way, naming the file and --create. And useradd's check
# of login.defs (find_new_sub_uids.c: min > max, count >= max,
# min + count - 1 > max) is matched exactly, for uids and gids.
. "$NSKIT_TOP/tests/integration/lib.sh"

sum() { sha256sum /etc/subuid /etc/subgid 2>&1; ls -a /etc | grep -E '^sub[ug]id' | paste -sd,; }
nolock() { check "$1: no lock left" test ! -e /etc/subuid.lock -a ! -e /etc/subgid.lock; }

# --- the real root: useradd first, then subid-alloc on the same files --------
mv /etc/subuid "$TMPDIR/subuid.saved"
run useradd -M -s /bin/sh absu
is "$rc" 0 "useradd runs with /etc/subuid absent"
check "useradd did not create /etc/subuid" test ! -e /etc/subuid
like "$(cat /etc/subgid)" "^absu:" "useradd still gave absu gids"
before=$(sum)
expect_fail 1 "subid-alloc: cannot allocate: /etc/subuid does not exist, which turns subordinate uids off (create it with --create, or use --gid-only)" \
	"subuid absent: refused, naming the file and --create" subid-alloc absu
is "$(sum)" "$before" "subuid absent: nothing written, nothing created"
nolock "subuid absent"
expect_fail 1 "subid-alloc: cannot allocate: /etc/subuid does not exist, which turns subordinate uids off (create it with --create, or use --gid-only)" \
	"--dry-run refuses the same way" subid-alloc --dry-run absu
is "$(sum)" "$before" "--dry-run: nothing created"
sed -i '/^absu:/d' /etc/subgid
run subid-alloc --gid-only absu
is "$rc:$err" "0:" "--gid-only needs only /etc/subgid"
check "... and still creates no /etc/subuid" test ! -e /etc/subuid
run subid-alloc --release absu
is "$rc:$err" "0:" "--release with subuid absent"
check "... creates no /etc/subuid" test ! -e /etc/subuid
run subid-alloc --create absu
gstart=$(awk -F: '$1=="absu"{print $2}' /etc/subgid)
is "$rc:$err" "0:" "--create: allocates"
is "$gstart:$(cat /etc/subuid)" "$gstart:absu:$gstart:65536" "--create: /etc/subuid made, the range starts where the gid range does"
is "$(stat -c '%a %U %G' /etc/subuid)" "644 root root" "--create: mode 644, owned by root"
nolock "--create"

mv /etc/subgid "$TMPDIR/subgid.saved"
before=$(sum)
expect_fail 1 "subid-alloc: cannot allocate: /etc/subgid does not exist, which turns subordinate gids off (create it with --create, or use --uid-only)" \
	"subgid absent: refused" subid-alloc absu
is "$(sum)" "$before" "subgid absent: nothing written"
rm /etc/subuid
before=$(sum)
expect_fail 1 "subid-alloc: cannot allocate: /etc/subuid and /etc/subgid do not exist, which turns subordinate ids off (create them with --create)" \
	"both absent: refused" subid-alloc absu
is "$(sum)" "$before" "both absent: nothing created"
nolock "both absent"
expect_fail 1 "subid-alloc: --count, --align, --deterministic and --create only go with an allocation
Try 'subid-alloc --help' for more information." "--create with --release" subid-alloc --create --release absu
mv "$TMPDIR/subuid.saved" /etc/subuid
mv "$TMPDIR/subgid.saved" /etc/subgid

# --- --root DIR: the same ---------------------------------------------------
root=$TMPDIR/img
mkdir -p "$root/etc"
printf 'root:x:0:0::/root:/bin/sh\ndev:x:1000:1000::/home/dev:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\ndev:x:1000:\n' > "$root/etc/group"
expect_fail 1 "subid-alloc: cannot allocate: $root/etc/subuid and $root/etc/subgid do not exist, which turns subordinate ids off (create them with --create)" \
	"--root: both absent: refused" subid-alloc --root "$root" dev
is "$(ls -A "$root/etc" | paste -sd,)" ".pwd.lock,group,passwd" "--root: nothing created but the passwd lock"
run subid-alloc --root "$root" --create dev
is "$rc:$(cat "$root/etc/subuid"):$(cat "$root/etc/subgid")" "0:dev:100000:65536:dev:100000:65536" "--root --create"

# --- SUB_UID_COUNT >= SUB_UID_MAX, as useradd -------------------------------
cp /etc/login.defs "$TMPDIR/login.defs"
setdefs() { # MIN MAX COUNT for uids and gids alike
	sed -i '/^SUB_[UG]ID_\(MIN\|MAX\|COUNT\)/d' /etc/login.defs
	printf 'SUB_UID_MIN %s\nSUB_UID_MAX %s\nSUB_UID_COUNT %s\nSUB_GID_MIN %s\nSUB_GID_MAX %s\nSUB_GID_COUNT %s\n' \
		"$1" "$2" "$3" "$1" "$2" "$3" >> /etc/login.defs
}
: > /etc/subuid
: > /etc/subgid
setdefs 1 65536 65536
# useradd refuses this one: it adds the user but no range (it says why).
run useradd -M -s /bin/sh cnt1
is "$(grep -c '^cnt1:' /etc/subuid /etc/subgid | paste -sd,)" "/etc/subuid:0,/etc/subgid:0" \
	"useradd gives no range when SUB_UID_COUNT = SUB_UID_MAX (MIN 1)"
like "$err" "Invalid configuration: SUB_UID_MIN \(1\), SUB_UID_MAX \(65536\), SUB_UID_COUNT \(65536\)" "... and says why"
expect_fail 1 "subid-alloc: cannot allocate: SUB_UID_MIN 1, SUB_UID_MAX 65536 and count 65536 leave no room (fix /etc/login.defs or use a smaller --count)" \
	"SUB_UID_COUNT = SUB_UID_MAX with MIN 1: refused as useradd does" subid-alloc cnt1
expect_fail 1 "subid-alloc: cannot allocate: SUB_GID_MIN 1, SUB_GID_MAX 65536 and count 65536 leave no room (fix /etc/login.defs or use a smaller --count)" \
	"SUB_GID_COUNT = SUB_GID_MAX with MIN 1: refused" subid-alloc --gid-only cnt1
setdefs 0 65536 65536
expect_fail 1 "subid-alloc: cannot allocate: SUB_UID_MIN 0, SUB_UID_MAX 65536 and count 65536 leave no room (fix /etc/login.defs or use a smaller --count)" \
	"SUB_UID_COUNT = SUB_UID_MAX with MIN 0: refused" subid-alloc cnt1
is "$(cat /etc/subuid /etc/subgid)" "" "the refusals wrote nothing"
cp "$TMPDIR/login.defs" /etc/login.defs

done_testing
