#!/bin/bash
# subid-alloc --json writes every string through lib/json: an owner name
# with a quote or a backslash (possible in an image's passwd) stays valid JSON.
. "$NSKIT_TOP/tests/integration/lib.sh"

root=$NSKIT_SANDBOX/img
mkdir -p "$root/etc"
printf 'a"b\\c:x:1000:1000::/:/bin/sh\n' > "$root/etc/passwd"
: > "$root/etc/group"
: > "$root/etc/subuid"
: > "$root/etc/subgid"
run subid-alloc -n --json --root "$root" 'a"b\c'
is "$rc" 0 "subid-alloc -n --json for an owner with a quote and a backslash"
is "$out" "{\"dry_run\": true, \"changes\": [
  {\"file\": \"$root/etc/subuid\", \"action\": \"add\", \"owner\": \"a\\\"b\\\\c\", \"start\": 100000, \"count\": 65536},
  {\"file\": \"$root/etc/subgid\", \"action\": \"add\", \"owner\": \"a\\\"b\\\\c\", \"start\": 100000, \"count\": 65536}
]}" "the owner is escaped"
check "the output is JSON (jq)" jq -e '.changes[0].owner == "a\"b\\c"' <<<"$out"

done_testing
