# kernelParam(name): `ok` and the value of /proc/sys/$1, or `missing` / `directory`.
# $1 the parameter's path under /proc/sys (checked in TS: nothing but a file there is read).
# A directory is a subtree, not a parameter; a write-only file (vm.compact_memory) fails to read.
f=/proc/sys/$1
if [ ! -d /proc/sys ]; then echo '/proc/sys is not there (is /proc mounted?)' >&2; exit 2; fi
if [ -d "$f" ]; then echo directory; exit 0; fi
if [ ! -e "$f" ]; then echo missing; exit 0; fi
printf 'ok\n'
exec cat -- "$f"
