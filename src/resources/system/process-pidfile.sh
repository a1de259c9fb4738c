# process({ pidFile }): `missing`, or `pid:` and the first 64 bytes of the pid file.
# $1 the pid file. Inline (a function of the probe's shell): ends with return, never exit.
if [ ! -e "$1" ]; then echo missing; return 0; fi
printf 'pid:'; head -c 64 -- "$1"
