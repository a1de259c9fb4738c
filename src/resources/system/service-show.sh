# service(name): `systemctl show`'s Key=value lines for the unit. $1 unit, $2 the properties.
# Exit 3 with "no systemd on this host" on stderr when systemctl is missing or systemd is not
# running (sd_booted(): /run/systemd/system exists). TZ=UTC0 makes the timestamps unambiguous
# (a zone abbreviation like CST is not).
command -v systemctl >/dev/null 2>&1 || { echo 'no systemd on this host (systemctl is not installed)' >&2; exit 3; }
[ -d /run/systemd/system ] || { echo 'no systemd on this host (systemd is not running: /run/systemd/system is missing)' >&2; exit 3; }
TZ=UTC0 exec systemctl show --no-pager -p "$2" -- "$1"
