# misuse-legal.sh - the legal look-alikes of lock misuse (issue 13's non-cases and more): no
# finding, status 0, the bare run's results (misuse-lib.sh). Those of condition waits are in
# misuse-cond.sh.
. "$(dirname "$0")/misuse-lib.sh"

# robust EOWNERDEAD recovery with pthread_mutex_consistent (the holder gone before the lock,
# or while a waiter is blocked), cancellation with cleanup handlers, std::lock's back-off,
# locks handed between threads through semaphores, heap and stack reuse, fork; recursion,
# a destroy of a free lock, a trylock that fails, re-inits of free locks, frees of unlocked
# locks, the process ending with locks held.
legal_case recursive-ok destroy-unlocked trylock-own robust-recovery robust-recovery-trylock robust-waiter \
  cancel-cleanup lock-backoff sem-handoff heap-stack-reuse fork destroy-reinit free-unlocked \
  main-exits-holding
done_tests
