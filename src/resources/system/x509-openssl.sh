# The start of both x509 snippets (x509-file.sh, x509-endpoint.sh follow it): openssl must be
# there, and __x509_any prints a certificate's fields from a file (-in) or from $__pem.
# `-ext` is OpenSSL >= 1.1.1; older ones print the SAN block inside `-text`. OpenSSL 3 reads
# DER by itself; older ones need `-inform DER`.
command -v openssl >/dev/null 2>&1 || { echo 'openssl is not installed on the host' >&2; exit 127; }
__x509() { openssl x509 -noout -subject -issuer -dates -serial -fingerprint -sha256 "$@"; }
__feed() { if [ -n "$__pem" ]; then printf '%s\n' "$__pem" | "$@"; else "$@"; fi; }
__x509_any() {
  __o=$(__feed __x509 -ext subjectAltName "$@" 2>&1) && { printf '%s\n' "$__o"; return 0; }
  __o=$(__feed __x509 -text "$@" 2>&1) && { printf '%s\n' "$__o"; return 0; }
  printf '%s\n' "$__o"; return 1
}
__pem=
