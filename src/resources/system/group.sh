# group(name): `group` and the group's entry (name:x:gid:members), or `missing`.
# $1 the group name. getent exits 2 for "no such key"; without getent (busybox) /etc/group is read.
if command -v getent >/dev/null 2>&1; then
  e=$(getent group -- "$1"); rc=$?
  [ "$rc" -eq 2 ] && { echo missing; exit 0; }
  [ "$rc" -eq 0 ] || { echo "getent group failed with exit $rc" >&2; exit 2; }
else
  e=$(N=$1 awk -F: '$1 == ENVIRON["N"]' /etc/group) || exit 2
  [ -n "$e" ] || { echo missing; exit 0; }
fi
printf 'group\n%s\n' "$e"
