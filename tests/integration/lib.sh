# tests/integration/lib.sh - TAP helpers for integration tests.
# Sourced by every tests/integration/<tool>/*.sh, which tests/run starts
# inside tests/sandbox (so /etc is a private copy and useradd is safe).
#
#   mkuser NAME [useradd options]     make a test user (home, XDG_RUNTIME_DIR)
#   as USER CMD...                    run CMD as USER with a clean environment
#   run CMD...                        run CMD; sets $out, $err, $rc
#   status_is EXIT-STATUS DESC | check DESC CMD... | is GOT WANT DESC | like GOT REGEX DESC
#   (HACKING.md shows every helper with an example)
#   skip DESC REASON                  a skip (a failure under NSKIT_MUST_WORK=1)
#   bail REASON                       stop the file: it cannot go on (counted as a failure)
#   subid_start NAME [subuid|subgid]  the start of NAME's first range in the sandbox
#   wait_until DESC CMD...            wait (bounded) until CMD succeeds; bail on timeout
#   done_testing                      print the plan and exit
#   $NSKIT_RELEASE                    bookworm, trixie, ... (/etc/os-release)
#
# The sandbox (tests/sandbox-world) starts every file with no subordinate
# ids, no regular users and Debian's login.defs numbers, exported here as
# SUB_UID_MIN, SUB_UID_COUNT, SUB_GID_MIN, SUB_GID_COUNT: expected values
# are derived from those and from what mkuser made, never from the host.

set -u
: "${NSKIT_SANDBOX:?run me through tests/run or tests/sandbox}"
NSKIT_BIN=${NSKIT_BIN:-$NSKIT_SANDBOX/bin}
export PATH="$NSKIT_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The Debian release underneath (bookworm, trixie; another name or empty
# elsewhere): a test whose peer behaves differently between releases says
# which release it expects, and checks both.
NSKIT_RELEASE=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
SUB_UID_MIN=$(awk '$1 == "SUB_UID_MIN" { print $2 }' /etc/login.defs)
SUB_UID_COUNT=$(awk '$1 == "SUB_UID_COUNT" { print $2 }' /etc/login.defs)
SUB_GID_MIN=$(awk '$1 == "SUB_GID_MIN" { print $2 }' /etc/login.defs)
SUB_GID_COUNT=$(awk '$1 == "SUB_GID_COUNT" { print $2 }' /etc/login.defs)
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

status_is() { # EXIT-STATUS DESC: passes when EXIT-STATUS is 0
	_tap_result "$1" "$2"
	[ "$1" = 0 ] || _last_stderr "${rc:-x}"
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
		_last_stderr "$1"
	fi
}

# A failed assertion on an exit status shows what the command said: when
# the value compared is the status of the last 'run', its stderr follows.
_last_stderr() { # GOT
	if [ -n "${_run_cmd:-}" ] && [ "$1" = "${rc:-}" ]; then
		diag "last command: $_run_cmd (exit $rc)" "its stderr:" "${err:-}"
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
	_run_cmd="$*"
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

bail() { # REASON
	echo "Bail out! $*"
	exit 1
}

# mkuser NAME [useradd options]: a test user of this file's world, with a
# home and an XDG_RUNTIME_DIR. The sandbox holds no regular user of the
# host, so a name that exists already is a broken world: the file stops.
mkuser() {
	local name=$1 uid
	shift
	if getent passwd "$name" >/dev/null || getent group "$name" >/dev/null; then
		bail "mkuser: '$name' already exists in the sandbox"
	fi
	useradd -m -d "$NSKIT_SANDBOX/home/$name" -s /bin/sh "$@" "$name" ||
		bail "mkuser: useradd could not make '$name'"
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
	if [ $_i -gt 500 ]; then
		bail "userns_proc: pid $_up_pid of $_user never entered a new user namespace"
	fi
	eval "$_var=$_up_pid"
}

# PID has entered a user namespace other than ours and exec'd its command
# (COMM, default sleep).
in_new_userns() { # PID [COMM]
	[ "$(readlink "/proc/$1/ns/user" 2>/dev/null)" != "$(readlink /proc/self/ns/user)" ] &&
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "${2:-sleep}" ]
}

# The start of NAME's first range in /etc/subuid (or subgid).
subid_start() { # NAME [subuid|subgid]
	awk -F: -v u="$1" '$1 == u { print $2; exit }' "/etc/${2:-subuid}"
}

# _poll CMD...: run CMD every 10 ms until it succeeds, 10 s at most; its
# last status. The one wait loop of the tests.
_poll() {
	local i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -gt 1000 ] && return 1
		sleep 0.01
	done
}

# wait_until DESC CMD...: poll CMD until it succeeds; a condition that
# never comes stops the file with DESC.
wait_until() {
	local desc=$1
	shift
	_poll "$@" || bail "timed out waiting: $desc"
}

# wait_for FILE: until FILE exists (10 s at most); fails when it never
# does, and the file goes on (the checks after it then fail).
wait_for() {
	_poll test -e "$1" || { diag "timed out waiting for $1"; return 1; }
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
