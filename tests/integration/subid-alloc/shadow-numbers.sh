#!/bin/bash
# shadow-utils reads /etc/subuid numbers with strtoul(base 0): "0200000" is
# octal 65536, "0x927c0" hex 600000, a leading blank or '+' is accepted.
# The real newuidmap grants those ranges, so subid-alloc must never allocate
# over them (nor over what it reads itself).
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
mkuser bob
mkuser carol
mkuser dave
mkuser erin
: > /etc/subgid
{
	echo "alice:0200000:65536"        # shadow: 65536-131071
	echo "carol:0x927c0:65536"        # shadow: 600000-665535
} > /etc/subuid

# What shadow grants, seen through the real newuidmap.
userns_proc pa alice
run as alice newuidmap "$pa" 0 "$(id -u alice)" 1 1 100000 31072
is "$rc:$(kmap "$pa" uid)" "0:0 $(id -u alice) 1|1 100000 31072" "newuidmap grants alice 100000-131071 from '0200000' (octal 65536)"
userns_proc pc carol
run as carol newuidmap "$pc" 0 "$(id -u carol)" 1 1 600000 65536
is "$rc" 0 "newuidmap grants carol 600000-665535 from '0x927c0'"

run subid-alloc --uid-only bob
is "$rc:$(grep '^bob:' /etc/subuid)" "0:bob:131072:65536" "bob's range starts after alice's octal range"
userns_proc pb bob
run as bob newuidmap "$pb" 0 "$(id -u bob)" 1 1 131072 65536
is "$rc" 0 "bob can map his range"
userns_proc pa2 alice
run as alice newuidmap "$pa2" 0 "$(id -u alice)" 1 1 131072 1
isnt "$rc" 0 "alice cannot map any of bob's range: no overlap"

run subid-alloc --uid-only -c 500000 dave
is "$rc:$(grep '^dave:' /etc/subuid)" "0:dave:665536:500000" "dave's range skips carol's hex range"
userns_proc pc2 carol
run as carol newuidmap "$pc2" 0 "$(id -u carol)" 1 1 665536 1
isnt "$rc" 0 "carol cannot map any of dave's range"

# a blank and a plus sign, at erin's deterministic start (owned by dave)
st=$(( 100000 + ($(id -u erin) - 1000) * 65536 ))
printf 'dave: +%d:65536\n' "$st" >> /etc/subuid
expect_fail 1 "subid-alloc: cannot allocate for 'erin': deterministic range $st-$((st + 65535)) is taken in /etc/subuid (run 'subid-check' to see by whom)" \
	"a range shadow reads from ' +$st' is taken (--deterministic)" subid-alloc --uid-only --deterministic erin
check "no lock is left behind after a refused --deterministic run" \
	test ! -e /etc/subuid.lock -a ! -e /etc/subgid.lock

# 'owner:0:0' is every id to shadow (first 0, last 0 + 0 - 1 wraps to the top)
mkuser frank
printf 'frank:0:0\n' >> /etc/subuid
userns_proc pf frank
run as frank newuidmap "$pf" 0 "$(id -u frank)" 1 1 5000000 1
is "$rc" 0 "newuidmap grants frank any id from 'frank:0:0'"
sum=$(sha256sum /etc/subuid)
expect_fail 1 "subid-alloc: cannot allocate for 'erin': no free range of 65536 ids left in 100000-600100000 (raise SUB_UID_MAX in /etc/login.defs or use a smaller --count)" \
	"so nothing is left to allocate" subid-alloc --uid-only erin
is "$(sha256sum /etc/subuid)" "$sum" "and nothing was written"

done_testing
