# Every file(path) stat of a batch in one run, in the probe's own shell (inline: ends with
# return, never exit): one `stat --printf` (GNU) for all the paths that exist, then per symlink a
# `stat -L`, and the resolved paths with builtins (cd -P) where the shell can enter; a missing path
# costs nothing when its parent can be searched. busybox stat has no --printf: then one `stat -c`
# per path, as the single fact does. $@ the paths. Output: NUL-terminated fields, records tagged
# by the path's index (M missing, E error) or by the path itself (S stat, T target, L followed, R resolved).
h=$PWD i=0
for p do
  shift
  if [ -e "$p" ] || [ -L "$p" ]; then set -- "$@" "$p"; i=$((i + 1)); continue; fi
  case $p in */*) d=${p%/*};; *) d=.;; esac
  if { [ -d "${d:-/}" ] && [ -x "${d:-/}" ]; } || { [ -e "${d:-/}" ] && [ ! -d "${d:-/}" ]; }; then printf 'M\000%s\000' "$i"
  else printf 'E\000%s\000' "$i"; stat -c %f -- "$p" 2>&1; printf '\000'
  fi
  i=$((i + 1))
done
[ $# -eq 0 ] && return 0
if ! QUOTING_STYLE=literal stat --printf 'S\000%n\000%f %a %u %g %s %Y %U %G\000%N\000' -- "$@" 2>/dev/null; then
  for p do printf 'S\000%s\000' "$p"; stat -c '%f %a %u %g %s %Y %U %G' -- "$p" 2>/dev/null; printf '\000\000'
    if [ -L "$p" ]; then printf 'T\000%s\000' "$p"; readlink -- "$p"; printf '\000'; fi
  done
fi
for p do
  if [ -L "$p" ]; then
    printf 'L\000%s\000' "$p"; stat -L -c %f -- "$p" 2>/dev/null; printf '\000'
    # shellcheck disable=SC1007,SC2164 # CDPATH= empties CDPATH for this one cd; back to $h, where the function started: nothing better to do if it is gone
    if [ -d "$p" ] && CDPATH= cd -P -- "$p" 2>/dev/null; then printf 'R\000%s\000%s\000' "$p" "$PWD"; cd -- "$h"
    else printf 'R\000%s\000' "$p"; readlink -f -- "$p" 2>/dev/null; printf '\000'
    fi
    continue
  fi
  if [ -d "$p" ]; then d=$p b=; else case $p in */*) d=${p%/*} b=${p##*/};; *) d=. b=$p;; esac; fi
  # shellcheck disable=SC1007,SC2164 # CDPATH= empties CDPATH for this one cd; back to $h, where the function started: nothing better to do if it is gone
  if CDPATH= cd -P -- "${d:-/}" 2>/dev/null; then
    r=$PWD; cd -- "$h"
    case $r/$b in //*) r=/$b;; */) ;; *) r=$r/$b;; esac
    printf 'R\000%s\000%s\000' "$p" "$r"
  else printf 'R\000%s\000' "$p"; readlink -f -- "$p" 2>/dev/null; printf '\000'
  fi
done
return 0
