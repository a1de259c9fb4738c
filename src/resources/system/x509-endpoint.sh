# x509(host:port): the certificate a TLS server presents to this host, as x509-file.sh prints
# it, then openssl's verify line; `noanswer` and the last lines of s_client when there is none.
# $1 host:port, $2 the SNI name ('' for none), $3 seconds. Runs after x509-openssl.sh.
# The PEM block is cut out of s_client's chatter; with nothing to cut, its last lines say why.
c=$1 sni=$2 t=$3
if [ -n "$sni" ]; then set -- -servername "$sni"; else set --; fi
if command -v timeout >/dev/null 2>&1; then
  s=$(timeout "$t" openssl s_client -connect "$c" "$@" </dev/null 2>&1); st=$?
else s=$(openssl s_client -connect "$c" "$@" </dev/null 2>&1); st=$?; fi
pem=$(printf '%s\n' "$s" | sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' | sed '/-----END CERTIFICATE-----/q')
if [ -z "$pem" ]; then
  echo noanswer
  if [ "$st" = 124 ]; then echo "no TLS handshake within $t s"; else printf '%s\n' "$s" | grep -v '^ *$' | tail -n 4; fi
  exit 0
fi
__pem=$pem
if out=$(__x509_any); then echo ok; else echo notcert; fi
printf '%s\n' "$out"
printf '%s\n' "$s" | grep 'Verify return code:' | tail -n 1; exit 0
