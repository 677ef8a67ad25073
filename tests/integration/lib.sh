# tests/integration/lib.sh - TAP helpers for integration tests.
# Sourced by every tests/integration/<tool>/*.sh, which tests/run starts
# inside tests/sandbox (so /etc is a private copy and useradd is safe).
#
#   mkuser NAME [useradd options]     make a test user (home, XDG_RUNTIME_DIR)
#   as USER CMD...                    run CMD as USER with a clean environment
#   run CMD...                        run CMD; sets $out, $err, $rc
#   ok COND-EXIT DESC | check DESC CMD... | is GOT WANT DESC | like GOT REGEX DESC
#   skip DESC REASON                  a skip (a failure under NSKIT_MUST_WORK=1)
#   done_testing                      print the plan and exit

set -u
: "${NSKIT_SANDBOX:?run me through tests/run or tests/sandbox}"
NSKIT_BIN=${NSKIT_BIN:-$NSKIT_SANDBOX/bin}
export PATH="$NSKIT_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_tap_n=0
_tap_failed=0
_tap_bg_pids=""

_tap_cleanup() {
	local p
	for p in $_tap_bg_pids; do
		kill -KILL "$p" 2>/dev/null
	done
}
trap _tap_cleanup EXIT

diag() { printf '# %s\n' "$@" | sed '2,$s/^/# /'; }

_tap_result() { # status desc
	_tap_n=$((_tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}

ok() { # EXIT-STATUS DESC
	_tap_result "$1" "$2"
}

check() { # DESC CMD...
	local desc=$1
	shift
	if "$@" >"$NSKIT_SANDBOX/.check.out" 2>&1; then
		_tap_result 0 "$desc"
	else
		_tap_result 1 "$desc"
		diag "command: $*" "$(head -c 2000 "$NSKIT_SANDBOX/.check.out")"
	fi
}

is() { # GOT WANT DESC
	if [ "$1" = "$2" ]; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3"
		diag "got:" "$1" "want:" "$2"
	fi
}

isnt() { # GOT UNWANTED DESC
	if [ "$1" != "$2" ]; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3"
		diag "got what should differ:" "$1"
	fi
}

like() { # GOT EXTENDED-REGEX DESC
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3"
		diag "got:" "$1" "want to match: $2"
	fi
}

unlike() { # GOT EXTENDED-REGEX DESC
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		_tap_result 1 "$3"
		diag "got:" "$1" "should not match: $2"
	else
		_tap_result 0 "$3"
	fi
}

skip() { # DESC REASON
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}

# run CMD... : $out (stdout), $err (stderr), $rc
run() {
	local o e
	o="$NSKIT_SANDBOX/.run.out"
	e="$NSKIT_SANDBOX/.run.err"
	"$@" >"$o" 2>"$e"
	rc=$?
	out=$(cat "$o")
	err=$(cat "$e")
	return 0
}

# expect RC STDERR DESC CMD... : exit status and the exact one-line message
expect_fail() {
	local want_rc=$1 want_err=$2 desc=$3
	shift 3
	run "$@"
	if [ "$rc" = "$want_rc" ] && [ "$err" = "$want_err" ]; then
		_tap_result 0 "$desc"
	else
		_tap_result 1 "$desc"
		diag "command: $*" "rc: $rc (want $want_rc)" "stderr:" "$err" "want stderr:" "$want_err"
	fi
}

mkuser() { # NAME [useradd options]
	local name=$1 uid
	shift
	useradd -m -d "$NSKIT_SANDBOX/home/$name" -s /bin/sh "$@" "$name" || return 1
	uid=$(id -u "$name")
	echo "$uid" >> "$NSKIT_SANDBOX/users"
	install -d -m 0700 -o "$name" -g "$(id -g "$name")" "$NSKIT_SANDBOX/run/$uid"
}

user_env() { # NAME -> the env(1) arguments of a login of NAME
	local name=$1 uid
	uid=$(id -u "$name")
	echo "HOME=$NSKIT_SANDBOX/home/$name USER=$name LOGNAME=$name SHELL=/bin/sh PATH=$PATH XDG_RUNTIME_DIR=$NSKIT_SANDBOX/run/$uid"
}

# as_argv USER : set the array AS to the command prefix that runs as USER
as_argv() {
	local name=$1
	# shellcheck disable=SC2046
	AS=(setpriv --reuid="$name" --regid="$(id -g "$name")" --init-groups --
		env -i $(user_env "$name"))
	if [ -n "${NSKIT_ASAN:-}" ]; then
		AS+=("ASAN_OPTIONS=${ASAN_OPTIONS:-}" "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}")
	fi
}

as() { # USER CMD... : run as USER, its groups, a login-like environment
	local name=$1
	shift
	as_argv "$name"
	"${AS[@]}" "$@"
}

# bg VAR CMD... : start CMD in the background, $VAR is its pid; killed at exit.
# "bg VAR as USER CMD..." starts CMD as USER with no shell in between, so
# $VAR is the pid of CMD itself.
bg() {
	local var=$1
	shift
	if [ "$1" = as ]; then
		as_argv "$2"
		shift 2
		"${AS[@]}" "$@" &
	else
		"$@" &
	fi
	eval "$var=$!"
	_tap_bg_pids="$_tap_bg_pids $!"
}

# userns_proc VAR USER [unshare options] : a process of USER sleeping in a new
# user namespace with no map yet; $VAR is its pid.
userns_proc() {
	local _var=$1 _user=$2 _i=0 _up_pid
	shift 2
	bg _up_pid as "$_user" unshare --user "$@" sleep 600
	# Wait until the process has entered its namespace (unshare has exec'd sleep).
	while [ "$(readlink "/proc/$_up_pid/ns/user" 2>/dev/null)" = "$(readlink /proc/self/ns/user)" ] ||
		[ "$(cat "/proc/$_up_pid/comm" 2>/dev/null)" != sleep ]; do
		_i=$((_i + 1))
		[ $_i -gt 500 ] && break
		sleep 0.01
	done
	eval "$_var=$_up_pid"
}

# Wait until a file exists (up to 5 s).
wait_for() {
	local i=0
	while [ ! -e "$1" ] && [ $i -lt 500 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	[ -e "$1" ]
}

# The kernel's map of a process, whitespace squeezed: "0 1000 1|1 100000 65536"
kmap() { # PID uid|gid
	tr -s ' ' < "/proc/$1/$2_map" | sed 's/^ //' | paste -sd'|'
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" = 0 ]
	exit
}
