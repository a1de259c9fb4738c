# file(path).md5: md5sum's line for $1 (the path). One snippet per algorithm: the tool's name
# is part of the code, never an argument.
md5sum -- "$1"
