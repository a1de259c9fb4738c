# file(path).content: the file's first $2 bytes. $1 the path, $2 the cap + 1 (so a cut file
# shows). Inline (a function of the probe's shell): no exit.
head -c "$2" -- "$1"
