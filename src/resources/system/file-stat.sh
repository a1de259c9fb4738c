# file(path): the lstat line, then the followed type, readlink and readlink -f, NUL-separated so
# any path survives; `missing` when there is nothing. $1 the path.
# Only a symlink needs the three extra commands; for anything else the followed type is its own
# and the shell resolves the path with builtins (cd -P, pwd -P): one exec per fact instead of
# four, which is most of what a file check costs a host. readlink -f stays the fallback where
# cd cannot enter (a directory without search permission for the connecting user).
s=$(stat -c '%f %a %u %g %s %Y %U %G' -- "$1" 2>&1) || {
  case $s in *'No such file'*|*'Not a directory'*) echo missing; exit 0;; esac
  printf '%s\n' "$s" >&2; exit 2; }
printf '%s\000' "$s"
case $s in a*)
  stat -L -c '%f' -- "$1" 2>/dev/null; printf '\000'
  readlink -- "$1"; printf '\000'
  readlink -f -- "$1" 2>/dev/null; exit 0;;
esac
printf '%s\n\000\000' "${s%% *}"
case $s in 4*) d=$1 b=;; *) case $1 in */*) d=${1%/*} b=${1##*/};; *) d=. b=$1;; esac;; esac
[ -n "$d" ] || d=/
# shellcheck disable=SC1007 # CDPATH= empties CDPATH for this one cd
if r=$(CDPATH= cd -P -- "$d" 2>/dev/null && pwd -P); then
  case $r/$b in //*) printf '%s\n' "/$b";; */) printf '%s\n' "$r";; *) printf '%s\n' "$r/$b";; esac
else readlink -f -- "$1" 2>/dev/null
fi
exit 0
