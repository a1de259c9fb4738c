# release(root): a Capistrano layout (current, releases/*, each release's revision file) in one run.
# $1 root, $2 revision file name ('' for none), $3 bytes to read (cap + 1, to tell a cut file).
# NUL-separated records; revision content base64 (the probe already requires base64).
r=$1; rev=$2; max=$3
if [ ! -e "$r" ]; then printf 'missing\000'; exit 0; fi
if [ ! -d "$r" ]; then printf 'notdir\000'; exit 0; fi
printf 'ok\000'
c=$r/current
if [ -L "$c" ]; then if [ -e "$c" ]; then printf 'L'; else printf 'G'; fi; readlink -- "$c"; elif [ -e "$c" ]; then printf 'E'; else printf 'N'; fi
printf '\000'; readlink -f -- "$c" 2>/dev/null; printf '\000'
d=$r/releases
if [ ! -e "$d" ]; then printf 'N\000'; exit 0; fi
if [ ! -d "$d" ]; then printf 'F\000'; exit 0; fi
{ [ -r "$d" ] && [ -x "$d" ]; } || { printf 'permission denied: cannot list %s\n' "$d" >&2; exit 2; }
printf 'D\000'; readlink -f -- "$d"; printf '\000'
cd -- "$d" || exit 2
for f in * .[!.]* ..?*; do
  if [ -L "$f" ]; then if [ -d "$f" ]; then t=l; else t=f; fi; elif [ -d "$f" ]; then t=d; elif [ -e "$f" ]; then t=f; else continue; fi
  if [ -r "$f" ] && [ -x "$f" ]; then a=1; else a=0; fi
  e=1; if [ "$t" != f ] && [ "$a" = 1 ]; then for x in "$f"/* "$f"/.[!.]* "$f"/..?*; do if [ -e "$x" ] || [ -L "$x" ]; then e=0; break; fi; done; fi
  printf 'R\000%s\000%s\000%s\000%s\000%s\000' "$f" "$t" "$a" "$e" "$(stat -c %Y -- "$f" 2>/dev/null)"
  readlink -f -- "$f" 2>/dev/null; printf '\000'
  if [ -z "$rev" ]; then printf 'none\000'
  elif [ ! -e "$f/$rev" ]; then printf 'missing\000'
  elif [ ! -f "$f/$rev" ]; then printf 'not-a-file\000'
  elif [ ! -r "$f/$rev" ]; then printf 'unreadable\000'
  else printf 'ok:'; head -c "$max" -- "$f/$rev" | base64 | tr -d '\n'; printf '\000'; fi
done
exit 0
