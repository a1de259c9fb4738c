# x509(path): `ok` and openssl's fields, `notcert` and why, or `missing`. $1 the certificate file.
# Runs after x509-openssl.sh (one script: __x509_any is defined there).
if [ ! -e "$1" ]; then echo missing; exit 0; fi
if [ ! -r "$1" ]; then echo "permission denied: cannot read $1" >&2; exit 2; fi
if [ -d "$1" ]; then echo notcert; echo 'it is a directory'; exit 0; fi
if out=$(__x509_any -in "$1") || out=$(__x509_any -inform DER -in "$1"); then echo ok; else echo notcert; fi
printf '%s\n' "$out"
