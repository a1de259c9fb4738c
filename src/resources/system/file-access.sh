# file(path).accessibleBy(user): `as-user TOOL` and `rwx` bits as the kernel answers them for
# the user, or `mode-bits` with the user's ids and the stat of the path and every directory
# above it; `nouser` / `missing`. $1 the path, $2 the user.
# As root: become the user without a login session where possible (setpriv logs nothing;
# runuser and su go through PAM). sudo is never tried: a refused sudo mails the admins.
p=$1 u=$2
if ! id -u -- "$u" >/dev/null 2>&1; then echo nouser; exit 0; fi
if [ ! -e "$p" ]; then
  s=$(ls -d -- "$p" 2>&1); case $s in *'ermission denied'*) printf '%s\n' "$s" >&2; exit 2;; esac
  echo missing; exit 0
fi
# shellcheck disable=SC2016 # the test runs in the child shell, as the user: $1 is its argument
T='r=-; w=-; x=-; [ -r "$1" ] && r=r; [ -w "$1" ] && w=w; [ -x "$1" ] && x=x; echo "$r$w$x"'
# shellcheck disable=SC2016 # "$VERIFY_P" is expanded by su's shell, not this one
if [ "$(id -u)" = 0 ]; then
  if command -v setpriv >/dev/null 2>&1; then
    printf 'as-user setpriv\n'; exec setpriv --reuid="$(id -u -- "$u")" --regid="$(id -g -- "$u")" --init-groups -- sh -c "$T" sh "$p"
  elif command -v runuser >/dev/null 2>&1; then
    printf 'as-user runuser\n'; exec runuser -u "$u" -- sh -c "$T" sh "$p"
  elif command -v su >/dev/null 2>&1; then
    printf 'as-user su\n'; VERIFY_P=$p; export VERIFY_P; exec su -m -s /bin/sh -c 'set -- "$VERIFY_P"; '"$T" "$u"
  fi
fi
echo mode-bits
printf 'user %s %s\n' "$(id -u -- "$u")" "$(id -G -- "$u")"
r=$(readlink -f -- "$p" 2>/dev/null) || r=
[ -n "$r" ] || r=$p
stat -L -c 'target %f %u %g' -- "$p" || exit 2
d=$r
while :; do
  d=$(dirname -- "$d")
  stat -L -c 'dir %f %u %g' -- "$d" || exit 2
  case $d in /|.) break;; esac
done
