# service(name).enablement: `systemctl is-enabled`'s word and status, which reads the unit links on
# disk (so it answers where systemd is installed but not running). $1 the unit. Exit 3: no systemctl.
# Inline (a function of the probe's shell): return, never exit.
command -v systemctl >/dev/null 2>&1 || { echo 'no systemd on this host (systemctl is not installed)' >&2; return 3; }
systemctl is-enabled -- "$1"
