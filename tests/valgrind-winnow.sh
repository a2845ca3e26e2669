#!/bin/sh
# Stand-in for build-valgrind/winnow used by `make test-valgrind`: runs the
# real binary under memcheck so that the CLI test scripts exercise every
# command under valgrind. Errors and leaks go to one log per process in
# $WN_VG_LOGS (the target fails when any log is not empty); the exit status
# stays the program's own, so the scripts' checks of it still hold.
exec valgrind -q --vgdb=no --leak-check=full \
    --errors-for-leak-kinds=definite,indirect,possible \
    --show-leak-kinds=definite,indirect,possible \
    --log-file="$WN_VG_LOGS/vg.%p.log" "$WN_VG_BIN" "$@"
