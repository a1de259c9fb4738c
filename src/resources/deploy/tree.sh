# tree(path): every entry under a directory, bounded, with sh globs (no GNU find), never
# following symlinks. $1 root, $2 max entries, $3 max depth, $4 hash size cap (0: no hashes).
# NUL-separated: `missing`, or `ok` then records E rel stat target hash, D rel (unreadable), L (limit).
# Positional parameters are local to functions in sh, so the walk recurses on "$1" (dir) "$2" (depth).
root=$1; max=$2; depth=$3; cap=$4; n=0
if [ ! -e "$root" ]; then printf 'missing\000'; exit 0; fi
[ -d "$root" ] || { printf '%s: not a directory\n' "$root" >&2; exit 2; }
if [ "$cap" -gt 0 ] && ! command -v sha256sum >/dev/null 2>&1; then echo 'sha256sum is not installed (pass hashUpTo: 0 to list without hashes)' >&2; exit 127; fi
printf 'ok\000'
walk() {
  if ! { [ -r "$1" ] && [ -x "$1" ]; }; then printf 'D\000%s\000' "${1#"$root"/}"; return 0; fi
  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    n=$((n + 1)); if [ "$n" -gt "$max" ]; then printf 'L\000'; exit 0; fi
    s=$(stat -c '%f %a %u %g %s %Y %U %G' -- "$f") || continue
    t=; h=
    # shellcheck disable=SC2086 # $s split into the stat fields on purpose (globbing off)
    if [ -L "$f" ]; then t=$(readlink -- "$f"; printf x); t=${t%?}; t=${t%"
"}
    elif [ -f "$f" ] && [ "$cap" -gt 0 ] && [ -r "$f" ]; then
      set -f; set -- "$1" "$2" $s; set +f
      if [ "$7" -le "$cap" ]; then h=$(sha256sum < "$f" | head -c 64) || exit 2; fi
    fi
    printf 'E\000%s\000%s\000%s\000%s\000' "${f#"$root"/}" "$s" "$t" "$h"
    if [ -d "$f" ] && [ ! -L "$f" ] && [ "$2" -lt "$depth" ]; then walk "$f" $(($2 + 1)); fi
  done
}
walk "$root" 0
exit 0
