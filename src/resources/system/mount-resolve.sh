# mount(path): `ok` and the path with every symlink followed, or `missing`. $1 the path.
# readlink -f is in GNU and busybox; cd -P is the POSIX fallback for directories.
# A path hidden by an unsearchable directory is not "missing": that would read as "not mounted".
if [ ! -e "$1" ]; then
  s=$(ls -d -- "$1" 2>&1); case $s in *'ermission denied'*) printf '%s\n' "$s" >&2; exit 2;; esac
  echo missing; exit 0
fi
printf 'ok\000'
readlink -f -- "$1" 2>/dev/null || { [ -d "$1" ] && cd -P -- "$1" && pwd -P; } || true
