#!/bin/bash
# subid-alloc writes /etc/subuid and /etc/subgid together: when the second
# cannot be replaced the first is put back, and every exit after locking
# leaves no lock behind. Ranges never contain 4294967295 ((uid_t)-1).
. "$NSKIT_TOP/tests/integration/lib.sh"

useradd -M ann
useradd -M ben
useradd -M cid
printf 'x:300000:65536\n' > /etc/subuid
printf 'x:300000:65536\n' > /etc/subgid
sum() { sha256sum /etc/subuid /etc/subgid; }
before=$(sum)

# /etc/subgid- a folder: the backup of subgid cannot be made after subuid
# was replaced; subuid is restored.
rm -f /etc/subgid-
mkdir /etc/subgid-
expect_fail 1 "subid-alloc: cannot replace backup /etc/subgid-: Is a directory" \
	"second file fails" subid-alloc ann
is "$(sum)" "$before" "subuid was put back: the two files agree"
check "no temporary file is left" test ! -e /etc/subuid+ -a ! -e /etc/subgid+
check "no lock is left" test ! -e /etc/subuid.lock -a ! -e /etc/subgid.lock
rmdir /etc/subgid-
run subid-alloc ann
is "$rc:$(grep ^ann: /etc/subuid):$(grep ^ann: /etc/subgid)" "0:ann:100000:65536:ann:100000:65536" "and a retry writes both"

# refused --deterministic: locks released (exit through nk_die)
printf 'y:%d:65536\n' $((100000 + ($(id -u ben) - 1000) * 65536)) >> /etc/subuid
run subid-alloc --deterministic ben
is "$rc" 1 "--deterministic on a taken range fails"
check "no lock is left after it" test ! -e /etc/subuid.lock -a ! -e /etc/subgid.lock
run subid-alloc ben
is "$rc" 0 "the next run is not blocked by a stale lock"

# SUB_UID_MAX 4294967295: the top id is never handed out
cp /etc/login.defs "$TMPDIR/login.defs"
sed -i -e '/^SUB_[UG]ID_M\(IN\|AX\)/d' /etc/login.defs
printf 'SUB_UID_MIN 4294901760\nSUB_UID_MAX 4294967295\n' >> /etc/login.defs
expect_fail 1 "subid-alloc: cannot allocate: SUB_UID_MIN 4294901760, SUB_UID_MAX 4294967295 and count 65536 leave no room (fix /etc/login.defs or use a smaller --count)" \
	"a range ending at 4294967295 is refused" subid-alloc --uid-only cid
sed -i 's/^SUB_UID_MIN.*/SUB_UID_MIN 4294901759/' /etc/login.defs
run subid-alloc --uid-only cid
is "$rc:$(grep ^cid: /etc/subuid)" "0:cid:4294901759:65536" "the last range ends at 4294967294"
cp "$TMPDIR/login.defs" /etc/login.defs

done_testing
