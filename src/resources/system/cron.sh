# cron(user): `ok`, the user, the crontab, its status and stderr (NUL-separated: a crontab is
# text and holds no NUL), so "no crontab" and "not allowed" are told apart; or `nouser`.
# $1 the user ('' for the connecting user).
command -v crontab >/dev/null 2>&1 || { echo 'crontab is not installed on the host' >&2; exit 127; }
me=$(id -un 2>/dev/null) || me=
u=$1; [ -n "$u" ] || u=$me
if [ -z "$u" ]; then echo 'cannot tell which user verify runs as (id -un failed)' >&2; exit 3; fi
if ! id -u -- "$u" >/dev/null 2>&1; then printf 'nouser\000%s' "$u"; exit 0; fi
if [ "$u" = "$me" ]; then set -- crontab -l
elif [ "$(id -u)" = 0 ]; then set -- crontab -l -u "$u"
else
  # without root, a spool file that happens to be readable still answers (Debian, RHEL, SUSE paths)
  for f in /var/spool/cron/crontabs/"$u" /var/spool/cron/"$u" /var/spool/cron/tabs/"$u"; do
    if [ -f "$f" ] && [ -r "$f" ]; then printf 'ok\000%s\000' "$u"; cat -- "$f"; printf '\000%s\000' 0; exit 0; fi
  done
  echo "reading the crontab of $u needs root; verify runs on this host as $me" >&2; exit 4
fi
printf 'ok\000%s\000' "$u"
{ err=$("$@" 2>&1 >&5); s=$?; } 5>&1
printf '\000%s\000%s' "$s" "$err"
