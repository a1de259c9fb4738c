# host(name).resolvable: getent's lines for the name as the host resolves it, or `not found`.
# $1 the name. ahosts asks getaddrinfo like a client would; `hosts` is for old getent without
# ahosts. Exit 2 is getent's "not found", an answer; anything else is the host failing to answer.
command -v getent >/dev/null 2>&1 || { echo 'getent is not installed on the host' >&2; exit 127; }
getent ahosts -- "$1"; s=$?
if [ "$s" = 1 ]; then getent hosts -- "$1"; s=$?; fi
if [ "$s" = 2 ]; then echo 'not found'; exit 0; fi
exit "$s"
