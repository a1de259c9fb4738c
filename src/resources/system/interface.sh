# networkInterface(name): `ok`, the /sys/class/net attributes (one key=value each, unreadable
# ones skipped), then the address listing (`--ip`, else `--ifconfig` and `--if_inet6`); or `missing`.
# $1 the interface name (checked in TS against Linux's rules).
d=/sys/class/net/$1
if [ ! -e "$d" ]; then echo missing; exit 0; fi
echo ok
for a in flags operstate mtu address carrier speed; do
  if v=$(cat "$d/$a" 2>/dev/null); then printf '%s=%s\n' "$a" "$v"; fi
done
if command -v ip >/dev/null 2>&1; then echo '--ip'; ip -o addr show dev "$1"; exit
fi
if command -v ifconfig >/dev/null 2>&1; then echo '--ifconfig'; ifconfig "$1"; else echo '--none'; fi
echo '--if_inet6'
cat /proc/net/if_inet6 2>/dev/null; exit 0
