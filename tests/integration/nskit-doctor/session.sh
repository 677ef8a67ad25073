#!/bin/bash
# Session findings: XDG_RUNTIME_DIR and USER as su leaves them.
. "$NSKIT_TOP/tests/integration/lib.sh"

finding() { printf '%s\n' "$out" | awk -v id="$1" '$1==id{print $2}'; }
# The finding's row and its continuation lines (wrapped text, the fix), as one line.
line() { printf '%s\n' "$out" | awk -v id="$1" '/^[^ ]/{p=($1==id)} p{printf "%s ", $0} END{print ""}' | tr -s ' ' | sed 's/ $//'; }

mkuser alice
uid=$(id -u alice)
as_argv alice

run "${AS[@]}" nskit-doctor
is "$(finding xdg-runtime-dir) $(finding user-env)" "ok ok" "a login's session"

run "${AS[@]}" env -u XDG_RUNTIME_DIR nskit-doctor
is "$rc" 0 "XDG_RUNTIME_DIR unset: a warning, exit 0"
is "$(line xdg-runtime-dir)" "xdg-runtime-dir warn XDG_RUNTIME_DIR is not set: podman falls back to /tmp/podman-run-$uid fix: log in as 'alice' (not 'su'), or 'loginctl enable-linger alice' and set XDG_RUNTIME_DIR=/run/user/$uid" "xdg-runtime-dir warns when unset"

# After su from root: root's runtime folder.
install -d -m 0700 "$NSKIT_SANDBOX/run/0"
run "${AS[@]}" XDG_RUNTIME_DIR="$NSKIT_SANDBOX/run/0" nskit-doctor
is "$rc" 1 "XDG_RUNTIME_DIR of another user: exit 1"
is "$(finding xdg-runtime-dir)" fail "xdg-runtime-dir fails"
like "$(line xdg-runtime-dir)" "belongs to uid 0, not to 'alice' \(uid $uid\)" "it names the owner"

# Alice's own folder, but open to others.
chmod 0755 "$NSKIT_SANDBOX/run/$uid"
run "${AS[@]}" nskit-doctor
is "$rc $(finding xdg-runtime-dir)" "1 fail" "mode 0755: xdg-runtime-dir fails"
like "$(line xdg-runtime-dir)" "has mode 0755, not 0700 fix: 'chmod 0700 $NSKIT_SANDBOX/run/$uid'" "the fix is chmod 0700"
chmod 0700 "$NSKIT_SANDBOX/run/$uid"

run "${AS[@]}" XDG_RUNTIME_DIR=/nonexistent nskit-doctor
is "$rc $(finding xdg-runtime-dir)" "1 fail" "a missing folder: xdg-runtime-dir fails"

# USER left over from another login (su without -).
run "${AS[@]}" USER=root LOGNAME=root nskit-doctor
is "$rc" 0 "USER of another user: a warning, exit 0"
is "$(line user-env)" "user-env warn USER is 'root' but the caller is 'alice' (uid $uid) fix: log in as 'alice' ('su - alice' or 'machinectl shell alice@'), or set USER=alice" "user-env warns"
run "${AS[@]}" LOGNAME=bob nskit-doctor
like "$(line user-env)" "LOGNAME is 'bob'" "user-env checks LOGNAME"

done_testing
