# user(name): `passwd` and the entry, then `id` and `id NAME`'s line; or `missing`. $1 the user.
# getent exits 2 for "no such key"; without getent (busybox) /etc/passwd is read directly.
# Inline, two processes: the passwd entry, then `id NAME` for every group with its name; return, never exit.
printf 'passwd\n'
if command -v getent >/dev/null 2>&1; then
  getent passwd -- "$1"; rc=$?
  [ "$rc" -eq 2 ] && { echo missing; return 0; }
  [ "$rc" -eq 0 ] || { echo "getent passwd failed with exit $rc" >&2; return 2; }
else
  N=$1 awk -F: '$1 == ENVIRON["N"] { print; f = 1 } END { if (!f) { print "missing"; exit 1 } }' /etc/passwd; rc=$?
  [ "$rc" -eq 1 ] && return 0
  [ "$rc" -eq 0 ] || return 2
fi
printf 'id\n'
id -- "$1" || return 2
return 0
