# file(path).sha256: sha256sum's line for $1 (the path). One snippet per algorithm: the tool's
# name is part of the code, never an argument.
sha256sum -- "$1"
