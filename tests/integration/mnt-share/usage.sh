# Options, help, version and every bad input: exact message, exit 1, and
# no change to the mounts.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/mnt-share/common.sh.inc"

before=$(all_fields)
d=$NSKIT_SANDBOX/tmp/usage
mkdir -p "$d/dir" "$d/unb/inner"
: > "$d/file"

run mnt-share --help
is "$rc|$err" "0|" "--help: exit 0, nothing on stderr"
is "$(printf '%s\n' "$out" | head -n1)" "Usage:" "--help: starts with Usage:"
is "$(printf '%s\n' "$out" | tail -n1)" "For more details see mnt-share(1)." "--help: ends with the man page"
for o in --shared --slave --private --unbindable --no-recursive --bind-self --show --check --json --help --version; do
	like "$out" "$o" "--help names $o"
done
run mnt-share -h
is "$rc" 0 "-h: exit 0"
run mnt-share --version
is "$rc|$out" "0|mnt-share from nskit $(cat "$NSKIT_TOP/VERSION")" "--version"
run mnt-share -V
is "$rc|$out" "0|mnt-share from nskit $(cat "$NSKIT_TOP/VERSION")" "-V"

try="Try 'mnt-share --help' for more information."
expect_fail 1 "mnt-share: unrecognized option '--bogus'
$try" "an unknown long option" mnt-share --bogus
expect_fail 1 "mnt-share: invalid option -- 'x'
$try" "an unknown short option" mnt-share -x
expect_fail 1 "mnt-share: option '--json=yes' doesn't allow an argument
$try" "an argument to a flag" mnt-share --show --json=yes

# conflicting propagation types, every pair, both orders
for a in shared slave private unbindable; do
	for b in shared slave private unbindable; do
		[ $a = $b ] && continue
		expect_fail 1 "mnt-share: --$a and --$b cannot be used together" "--$a --$b" mnt-share --$a --$b /
	done
done
run mnt-share --private --private --no-recursive "$d/../usage/../../tmp/usage/dir/../../../tmp" 
is "$rc|$err" "1|mnt-share: '$d/../usage/../../tmp/usage/dir/../../../tmp' is not a mount point (use --bind-self to bind it onto itself first)" "the same type twice is fine; a target is named as given"

expect_fail 1 "mnt-share: --show and --check cannot be used together" "--show --check" mnt-share --show --check
expect_fail 1 "mnt-share: --check and --show cannot be used together" "-c -s" mnt-share -c -s
for o in --shared --slave --private --unbindable --no-recursive --bind-self; do
	expect_fail 1 "mnt-share: $o and --show cannot be used together" "$o --show" mnt-share $o --show
	expect_fail 1 "mnt-share: $o and --check cannot be used together" "--check $o" mnt-share --check $o
done
expect_fail 1 "mnt-share: --json can only be used with --show" "--json alone" mnt-share --json
expect_fail 1 "mnt-share: --json can only be used with --show" "--json --check" mnt-share --json --check

# targets
expect_fail 1 "mnt-share: '$d/missing' does not exist" "a missing TARGET" mnt-share "$d/missing"
expect_fail 1 "mnt-share: '$d/missing' does not exist" "a missing TARGET with --bind-self" mnt-share --bind-self "$d/missing"
expect_fail 1 "mnt-share: '$d/missing' does not exist" "--check on a missing TARGET" mnt-share --check "$d/missing"
expect_fail 1 "mnt-share: '$d/dir' is not a mount point (use --bind-self to bind it onto itself first)" \
	"a folder that is not a mount point" mnt-share "$d/dir"
expect_fail 1 "mnt-share: '$d/file' is not a mount point (use --bind-self to bind it onto itself first)" \
	"a file that is not a mount point" mnt-share --private "$d/file"
expect_fail 1 "mnt-share: '' does not exist" "an empty TARGET" mnt-share ""
expect_fail 1 "mnt-share: '$d/dir' is not a mount point (use --bind-self to bind it onto itself first)" \
	"checked before any change: a bad second TARGET changes nothing" mnt-share / "$d/dir"
is "$(all_fields)" "$before" "no bad input changed a mount"

# --bind-self below an unbindable mount: refused before the kernel is asked
mount -t tmpfs unb "$d/unb"
mkdir -p "$d/unb/inner"
mnt-share --unbindable --no-recursive "$d/unb"
expect_fail 1 "mnt-share: cannot bind '$d/unb/inner' onto itself: the mount at '$d/unb' that holds it is unbindable (make it bindable first: 'mnt-share --private --no-recursive $d/unb')" \
	"--bind-self under an unbindable mount" mnt-share --bind-self "$d/unb/inner"
is "$(nmounts "$d/unb/inner")" 0 "nothing was bound"
run mnt-share --private --no-recursive "$d/unb"
run mnt-share --bind-self "$d/unb/inner"
is "$rc|$err|$(nmounts "$d/unb/inner")" "0||1" "the fix the message gives works"

done_testing
