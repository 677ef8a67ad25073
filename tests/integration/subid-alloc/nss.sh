#!/bin/bash
# subid-alloc with a non-files `subid:` source: --list reads through
# libsubid (a real libsubid NSS module, tests/helpers/subid-plugin), and
# allocation and release are refused.
. "$NSKIT_TOP/tests/integration/lib.sh"

useradd -M -u 1042 nssuser
: > /etc/subuid
: > /etc/subgid
echo 'subid: nktest' >> /etc/nsswitch.conf
# libsubid dlopen()s libsubid_nktest.so; subid-alloc is not setuid, so the
# library path of the environment is honoured.
export LD_LIBRARY_PATH=$NSKIT_SANDBOX/helpers
check "the test module is built" test -e "$NSKIT_SANDBOX/helpers/libsubid_nktest.so"

run subid-alloc -l nssuser
is "$rc:$out" "0:OWNER   TYPE  START COUNT    END
nssuser uid  542000  1000 542999
nssuser gid  542000  1000 542999" "--list reads the central source through libsubid"
is "$(getsubids nssuser 2>/dev/null)" "0: nssuser 542000 1000" "the same as shadow's getsubids"
sum=$(sha256sum /etc/subuid /etc/subgid)
expect_fail 1 "subid-alloc: cannot allocate subordinate ids: /etc/nsswitch.conf names 'nktest' as their source (subid: nktest); the central service owns the ranges (manage them there)" \
	"allocation refused" subid-alloc nssuser
expect_fail 1 "subid-alloc: cannot release subordinate ids: /etc/nsswitch.conf names 'nktest' as their source (subid: nktest); the central service owns the ranges (manage them there)" \
	"release refused" subid-alloc --release nssuser
is "$(sha256sum /etc/subuid /etc/subgid)" "$sum" "nothing written"

sed -i 's/^subid: nktest/subid: files/' /etc/nsswitch.conf
run subid-alloc nssuser
is "$rc" 0 "'subid: files' allocates"

done_testing
