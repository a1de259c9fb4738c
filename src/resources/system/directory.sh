# directory(path).entries: `ok` then every entry's name, NUL-terminated (hidden ones included),
# or `missing`. $1 the directory. An unreadable directory is an error: a glob over it would
# silently look empty. Inline (builtins only): the glob is anchored at the quoted path, so the
# shell's cwd stays put; return, never exit.
if [ ! -e "$1" ]; then echo missing; return 0; fi
[ -d "$1" ] || { echo "not a directory" >&2; return 2; }
{ [ -r "$1" ] && [ -x "$1" ]; } || { echo "permission denied" >&2; return 2; }
printf 'ok\000'
for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\000' "${f##*/}"; fi; done
return 0
