# pkg(name): `dpkg` or `rpm` on the first line, then that manager's query output.
# $1 package name, $2 manager (auto, dpkg, rpm), $3 dpkg-query format, $4 rpm format (formats are
# arguments: `${Package}` must meet neither the shell nor JS). Returns 3: no package manager.
# Inline (a function of the probe's shell, see FactRequest.inline): ends with return, never exit.
if [ "$2" != rpm ] && command -v dpkg-query >/dev/null 2>&1; then
  echo dpkg; dpkg-query -W --showformat="$3" -- "$1"; return
fi
if [ "$2" != dpkg ] && command -v rpm >/dev/null 2>&1; then
  echo rpm; rpm -q --qf "$4" -- "$1"; return
fi
case $2 in
  auto) echo 'no package manager on this host (neither dpkg-query nor rpm is installed)' >&2;;
  *) echo "no package manager on this host ($2 is not installed)" >&2;;
esac
return 3
