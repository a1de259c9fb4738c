# file(path).contains(pattern): how many lines match (grep -c; exit 1: none, 2: trouble).
# $1 the path, $2 the pattern, $3… grep's flags, from a fixed set chosen in code (-F, -E, -i, -x).
f=$1 p=$2; shift 2; exec grep -c "$@" -e "$p" -- "$f"
