# pkg(name): `dpkg` or `rpm` on the first line, then that manager's query output.
# $1 package name, $2 manager (auto, dpkg, rpm), $3 dpkg-query format, $4 rpm format (formats are
# arguments: `${Package}` must meet neither the shell nor JS), $5 dpkg's admin directory
# (/var/lib/dpkg; tests point it elsewhere). Returns 3: no package manager.
# On dpkg hosts one awk reads dpkg's status file and prints what `dpkg-query -W --showformat=$3`
# would (Package, Architecture, db:Status-Abbrev, Version): dpkg-query loads the whole database,
# ~15 ms of CPU, awk ~2 ms. Only paragraphs holding the line `Package: <name>` are parsed.
# dpkg-query itself answers (awk exits 4) when status has no such package (dpkg-query then also
# knows names from other packages' relations, as `un`), when its journal has entries not yet merged
# into status (updates/), when a dpkg.cfg moves the database (admindir), or when awk is missing or
# fails (awk prints only whole lines of found packages; the runner drops repeated versions).
# Inline (a function of the probe's shell, see FactRequest.inline): ends with return, never exit.
if [ "$2" != rpm ] && command -v dpkg-query >/dev/null 2>&1; then
  echo dpkg
  d=${5:-/var/lib/dpkg}
  set -- "$1" "$3" "$d" "$d"/updates/[0-9]*
  if [ -r "$3/status" ] && [ ! -e "$4" ]; then
    if N=$1 awk 'BEGIN {
  n = ENVIRON["N"]; b = n; sub(/:.*/, "", b)
  for (i = 1; i < ARGC - 1; i++) { f = ARGV[i]; ARGV[i] = ""; while ((getline l < f) > 0) if (l ~ /^[ \t]*admindir/) { moved = 1; exit 4 } close(f) }
  split("unknown u install i hold h deinstall r purge p", w, " "); for (i = 1; i in w; i += 2) want[w[i]] = w[i + 1]
  split("not-installed n config-files c half-installed H unpacked U half-configured F triggers-awaited W triggers-pending t installed i", w, " ")
  for (i = 1; i in w; i += 2) state[w[i]] = w[i + 1]
  RS = ""
}
index("\n" $0 "\n", "\nPackage: " b "\n") {
  p = a = v = x = ""; k = split($0, line, "\n")
  for (i = 1; i <= k; i++) {
    if (line[i] ~ /^Package: /) p = substr(line[i], 10)
    else if (line[i] ~ /^Architecture: /) a = substr(line[i], 15)
    else if (line[i] ~ /^Version: /) v = substr(line[i], 10)
    else if (line[i] ~ /^Status: /) x = substr(line[i], 9)
  }
  if (p != n && p ":" a != n) next
  split(x, st, " "); printf "%s\t%s\t%s%s%s\t%s\n", p, a, want[st[1]], state[st[3]], st[2] == "reinstreq" ? "R" : " ", v; found = 1
}
END { if (moved || !found) exit 4 }' /etc/dpkg/dpkg.cfg /etc/dpkg/dpkg.cfg.d/* "$3/status"; then return 0; fi
  fi
  dpkg-query -W --showformat="$2" -- "$1"; return
fi
if [ "$2" != dpkg ] && command -v rpm >/dev/null 2>&1; then
  echo rpm; rpm -q --qf "$4" -- "$1"; return
fi
case $2 in
  auto) echo 'no package manager on this host (neither dpkg-query nor rpm is installed)' >&2;;
  *) echo "no package manager on this host ($2 is not installed)" >&2;;
esac
return 3
