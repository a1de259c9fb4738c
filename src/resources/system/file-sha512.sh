# file(path).sha512: sha512sum's line for $1 (the path). One snippet per algorithm: the tool's
# name is part of the code, never an argument.
sha512sum -- "$1"
