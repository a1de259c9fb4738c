# host(name).reachable(port): the tool used (`nc` or `bash`), what it said, then `exit=STATUS`.
# $1 host, $2 port, $3 seconds. The time limit is the tool's own (nc -w) or `timeout` around
# bash, so a silent firewall reads as "timed out", not as a hung fact.
h=$1 p=$2 t=$3
if command -v nc >/dev/null 2>&1; then
  echo nc
  if command -v timeout >/dev/null 2>&1; then timeout "$((t + 1))" nc -v -z -w "$t" "$h" "$p" 2>&1; else nc -v -z -w "$t" "$h" "$p" 2>&1; fi
  echo "exit=$?"; exit 0
fi
if command -v bash >/dev/null 2>&1; then
  echo bash
  # shellcheck disable=SC2016 # $1 $2 are the child bash's arguments
  if command -v timeout >/dev/null 2>&1; then timeout "$t" bash -c 'exec 3<>"/dev/tcp/$1/$2"' bash "$h" "$p" 2>&1
  else bash -c 'exec 3<>"/dev/tcp/$1/$2"' bash "$h" "$p" 2>&1; fi
  echo "exit=$?"; exit 0
fi
echo 'neither nc nor bash is installed on the host, so a TCP connection cannot be tried from it' >&2; exit 3
