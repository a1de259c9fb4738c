# process(): the process table in one awk, the program the table snippet (process.ts) runs over
# its arguments, then /proc/[0-9]* (one argument per process directory). One `awk` reads /proc
# (getline, no fork per process), so the table costs the host one process whatever it runs; the
# shell only expands the /proc/[0-9]* glob. Every process of the probe's own session (awk's
# session: the exec channel's shell, its ancestors up to the session leader, the batch's watchdog)
# is skipped. Records are framed by a random nonce (the kernel's uuid): a command line can hold
# any bytes. Kernel threads (PF_KTHREAD in the flags, field 9) have no command line and run as
# root (no status read). Another probe's fact can `exec` its command (losing the marker) while its
# marked parent is still to come in the glob's order (lexicographic, and pids wrap): by then it
# could be gone. So a parent not read yet is read (record A) before the child's command line.
# What is read: `*` (or no argument before the glob) asks for every process: stat, status (the
# uid) and cmdline of each. Otherwise stat only of every process (~22 us each here; status and
# cmdline cost as much again each), and the rest only of the sessions holding a candidate: a
# process named `n<name>` (or its 15-byte truncation), or the pid in pid file `f<file>` (read
# here, record F; `m` missing, `d` not a regular file, `u` unreadable, as the shell found them).
# The whole session is read: the runner leaves out the sessions of other verify probes,
# recognised by their command lines. Matching is the runner's.
# Command lines are read with RS = NUL (mawk, gawk). busybox awk drops what follows a NUL: there
# the command lines come from one `ps -o pid,args` (arguments joined by spaces, as ps shows them).
# User names come from /etc/passwd; only uids not in it (LDAP, sssd) cost a `getent passwd`.
# The program goes between single quotes: it holds none.
function slurp(f,  l, s, r) { s = ""; while ((r = (getline l < f)) > 0) s = s l "\n"; close(f); return s }
function rpar(s,  i, j) { j = 0; while ((i = index(substr(s, j + 1), ")")) > 0) j += i; return j }
function after(s,  j) { j = rpar(s); return j ? substr(s, j + 2) : "" }
function cmdline(pid,  f, r) {
  if (lossy) { if (pid in args) printf "%s", args[pid]; return }
  f = "/proc/" pid "/cmdline"; RS = "\0"
  while ((getline r < f) > 0) printf "%s%c", r, 0
  close(f); RS = "\n"
}
function uidof(d,  f, l, a) { f = d "/status"; while ((getline l < f) > 0) if (l ~ /^Uid:/) { split(l, a); close(f); return a[3] } close(f); return "" }
function pidfile(f,  l, s, r) { s = ""; while (length(s) < 64 && (r = (getline l < f)) > 0) s = s l "\n"; close(f); return r < 0 && s == "" ? "u" : "pid:" substr(s, 1, 64) }
# the records of one process: the command line of its parent first when not read yet (A), then P and C
function emit(d, pid, st, pp, kt,  uid) {
  uid = kt ? 0 : uidof(d)
  if (uid == "") return
  uids[uid] = 1
  if (!kt && pp > 1 && !(pp in seen)) { seen[pp] = 1; printf "\n%s A %s\n", n, pp; cmdline(pp) }
  seen[pid] = 1
  printf "\n%s P %s\n%s", n, uid, st
  printf "\n%s C\n", n
  if (!kt) cmdline(pid)
}
BEGIN {
  f = "/proc/sys/kernel/random/uuid"; getline n < f; close(f); gsub(/-/, "", n); n = "V" n
  if (n !~ /^V[0-9a-f]+$/ || length(n) != 33) { print "cannot read " f > "/dev/stderr"; exit 2 }
  split(after(slurp("/proc/self/stat")), me, " "); sid = me[4]
  while ((getline l < "/proc/stat") > 0) if (l ~ /^btime /) { split(l, a); bt = a[2] }
  close("/proc/stat"); getline l < "/proc/uptime"; close("/proc/uptime"); split(l, a, " "); up = a[1]
  hz = up > 5 ? me[20] / up : 100; h = 100; split("250 300 1000 1024", cand, " ")
  for (i in cand) if ((cand[i] - hz) * (cand[i] - hz) < (h - hz) * (h - hz)) h = cand[i]
  f = "/proc/self/status"
  while ((getline l < f) > 0) { split(l, a); if (a[1] == "Uid:") u = a[3]; else if (a[1] == "Gid:") g = a[3]; else if (a[1] == "Groups:") { for (i = 2; i in a; i++) g = g " " a[i] } }
  close(f)
  while ((getline l < "/proc/mounts") > 0) { split(l, a, " "); if (a[2] == "/proc" && a[3] == "proc") po = a[4] }
  close("/proc/mounts")
  printf "\n%s H %s %s %s %s %s %s\n", n, me[2], sid, bt, h, up, u
  printf "\n%s G %s\n\n%s M %s\n", n, g, n, po
  RS = "\0"; k = 0; while ((getline l < "/proc/self/cmdline") > 0) k++
  close("/proc/self/cmdline"); RS = "\n"; lossy = k < 3
  if (lossy) {
    c = "ps -o pid,args 2>/dev/null"
    while ((c | getline l) > 0) { sub(/^ +/, "", l); p = l; sub(/ .*/, "", p); if (p ~ /^[0-9]+$/) { sub(/^[0-9]+ /, "", l); args[p] = l } }
    close(c)
  }
  all = 0
  for (i = 1; i < ARGC && substr(ARGV[i], 1, 6) != "/proc/"; i++) {
    t = substr(ARGV[i], 1, 1); v = substr(ARGV[i], 2); ARGV[i] = ""
    if (t == "*") all = 1
    else if (t == "n") { want[v] = 1; if (length(v) > 15) want[substr(v, 1, 15)] = 1 }
    else if (t == "m" || t == "d" || t == "u") printf "\n%s F\n%s%c%s", n, v, 0, t
    else if (t == "f") {
      s = pidfile(v); printf "\n%s F\n%s%c%s", n, v, 0, s
      # more than the runner will take (it decides what a pid file holds): never fewer
      if (s ~ /^pid:/) { s = substr(s, 5); sub(/^[^0-9]+/, "", s); if (s != "") wantpid[s + 0] = 1 }
    }
  }
  if (i == 1) all = 1
  ex = ""; np = 0
  for (; i < ARGC; i++) {
    d = ARGV[i]; ARGV[i] = ""; pid = substr(d, 7)
    st = slurp(d "/stat")
    if (st == "") continue
    j = rpar(st); split(substr(st, j + 2), f4, " ")
    if (f4[4] == sid) { ex = ex " " pid; continue }
    if (all) { emit(d, pid, st, f4[2] + 0, int(f4[7] / 2097152) % 2); continue }
    c = index(st, " (")
    if ((substr(st, c + 2, j - c - 2) in want) || (pid in wantpid)) chosen[f4[4]] = 1
    order[++np] = pid; sess[pid] = f4[4]
  }
  # the sessions of the candidates, read again: stat as it is now goes with the uid and command line
  for (i = 1; i <= np; i++) {
    pid = order[i]
    if (!(sess[pid] in chosen)) continue
    d = "/proc/" pid; st = slurp(d "/stat")
    if (st == "") continue
    split(after(st), f4, " ")
    emit(d, pid, st, f4[2] + 0, int(f4[7] / 2097152) % 2)
  }
  printf "\n%s X%s\n\n%s U\n", n, ex, n
  while ((getline l < "/etc/passwd") > 0) { split(l, a, ":"); if ((a[3] in uids) && !(a[3] in named)) { named[a[3]] = 1; print l } }
  close("/etc/passwd")
  c = ""; for (x in uids) if (!(x in named)) c = c " " x
  if (c != "") { c = "getent passwd" c " 2>/dev/null"; while ((c | getline l) > 0) print l; close(c) }
  printf "\n%s Z\n", n
  exit 0
}
