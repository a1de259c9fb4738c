# port(n): every listening socket of the host. $1 `proc` to skip ss, $2 `owners` or `no-owners`.
# Inline, one process with ss: `ss -ltnu`, with -p only when owners are asked for (-p walks every
# process's file descriptors). A failing ss (no netlink in a sandbox) falls back to /proc/net,
# read with builtins; only owners there cost an `ls` of every /proc/<pid>/fd. Return, never exit.
# (A directive before the first command covers the whole file: only read's fields r and rest are meant.)
# shellcheck disable=SC2034 # read's spare fields are named, not used
u=; while read -r k r e rest; do [ "$k" = Uid: ] && { u=$e; break; }; done < /proc/self/status
if [ "$1" != proc ] && command -v ss >/dev/null 2>&1; then
  printf 'ss %s\n' "$u"
  if [ "$2" = owners ]; then ss -ltnup 2>&1 && return 0; else ss -ltnu 2>&1 && return 0; fi
  printf '\n@@fallback\n'
fi
[ -r /proc/net/tcp ] || { echo 'ss is not installed and /proc/net/tcp is not readable' >&2; return 2; }
e=$(printf 'AB' | od -An -tx2)
printf 'proc %s %s\n' "$u" "${e#"${e%%[!	 ]*}"}"
for f in tcp tcp6 udp udp6; do
  [ -r "/proc/net/$f" ] || continue
  printf '@%s\n' "$f"; while IFS= read -r l; do printf '%s\n' "$l"; done < "/proc/net/$f"
done
[ "$2" = owners ] || return 0
printf '@fd\n'
# shellcheck disable=SC2010 # one ls over every fd directory: its names are numbers, and the links' socket inodes are what is read
ls -lq /proc/[0-9]*/fd 2>/dev/null | grep -e '^/proc/' -e ' -> socket:\['
printf '@comm\n'
for d in /proc/[0-9]*; do read -r c 2>/dev/null < "$d/comm" && printf '%s %s\n' "${d#/proc/}" "$c"; done
return 0
