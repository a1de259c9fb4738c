# hostClock(): the host's time, `seconds.nanoseconds` since the epoch (UTC).
# No positional parameters. %N is GNU (and busybox with the feature); where it is not expanded
# the output ends in "N" or "%N", which the parser reads as whole seconds.
date -u +%s.%N
