# bash completion for the nskit tools (installed once under each tool's name)
#
# Options come from the tool's own --help, so they never drift from the
# code; option arguments are completed with what each takes: session names,
# user names, pids, files, propagation types.

_nskit_sessions()
{
	local dir=${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/nskit}
	[ -n "$dir" ] || dir=/tmp/nskit-$(id -u)
	local f names=()
	for f in "$dir"/*; do
		[ -e "$f" ] || continue
		f=${f##*/}
		names+=("${f%.*}")
	done
	printf '%s\n' "${names[@]}" | sort -u
}

_nskit_pids()
{
	local p
	for p in /proc/[0-9]*; do
		[ -O "$p" ] && echo "${p#/proc/}"
	done
}

_nskit()
{
	local cur prev words cword
	_init_completion -s || return
	local tool=${words[0]##*/}

	case "$tool:$prev" in
	*:--help|*:-h|*:--version|*:-V)
		return ;;
	nsenter-user:--join|nsenter-user:-j|nsenter-user:--stop)
		COMPREPLY=($(compgen -W "$(_nskit_sessions) $(_nskit_pids)" -- "$cur"))
		return ;;
	nsenter-user:--keep)
		COMPREPLY=($(compgen -W "$(_nskit_sessions)" -- "$cur"))
		return ;;
	*:--propagation)
		COMPREPLY=($(compgen -W "slave shared private unchanged" -- "$cur"))
		return ;;
	*:--setgroups)
		COMPREPLY=($(compgen -W "allow deny" -- "$cur"))
		return ;;
	nskit-doctor:--explain|nskit-doctor:-e)
		COMPREPLY=($(compgen -W "-" -- "$cur"))
		return ;;
	idmap-shift:--unmapped)
		COMPREPLY=($(compgen -W "fail keep overflow" -- "$cur"))
		return ;;
	idmap-shift:--to-pid|idmap-shift:--from-pid)
		COMPREPLY=($(compgen -W "$(_nskit_pids)" -- "$cur"))
		return ;;
	idmap-shift:--to|idmap-shift:-t)
		_filedir
		return ;;
	idmap-shift:--mount|idmap-shift:--state-dir)
		_filedir -d
		return ;;
	idmap-shift:--jobs|idmap-shift:-j)
		return ;;
	nsenter-user:-f)
		;;      # --fork takes no argument
	*:--map-file|*:--from|*:-f|*:--file)
		_filedir
		return ;;
	*:--root|*:-R)
		_filedir -d
		return ;;
	*:--user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return ;;
	*:--uid|*:--gid|*:-U|*:-G|*:-u|*:-g|*:-m|*:--map|*:--count|*:-c|*:--align|*:--info-fd|*:--block-fd|*:--to-host|*:--to-ns)
		return ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_parse_help "$tool" --help)" -- "$cur"))
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
		return
	fi
	case "$tool" in
	subid-alloc|subid-check)
		COMPREPLY=($(compgen -u -- "$cur")) ;;
	idmap-apply|idmap-show)
		COMPREPLY=($(compgen -W "$(_nskit_pids)" -- "$cur")) ;;
	mnt-share|idmap-shift)
		_filedir -d ;;
	nsenter-user)
		# After the options: the command and its arguments.
		local i
		for ((i = 1; i < cword; i++)); do
			if [[ ${words[i]} != -* ]] && [[ ${words[i - 1]} != @(--keep|--join|-j|--stop|--map-file|--uid|--gid|-U|-G|-u|-g|-m|--propagation|--setgroups|--info-fd|--block-fd) ]]; then
				_command_offset "$i"
				return
			fi
		done
		COMPREPLY=($(compgen -c -- "$cur")) ;;
	esac
}

complete -F _nskit idmap-apply idmap-shift idmap-show nsenter-user subid-alloc subid-check mnt-share nskit-doctor
