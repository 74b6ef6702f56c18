#!/usr/bin/env bash
# annotate.sh - annotated locks (lockgraph.h's lg_mutex_*) take part in what pthread locks
# do: an ABBA inversion of a spinlock pair and of a futex-lock pair (exit 66, both locks
# named, type "custom"), live deadlocks ended at once by `run` (66; `timeout` is only a hang
# guard), a self-deadlock, a trylock and read-read orders that are no inversion, a release
# by another thread (a hand-over: the holder no longer holds it), a recursive re-entry.
# Without the runtime the same binary runs as a plain program (the annotations do nothing):
# the inversions run to their end, the deadlocks hang.
. "$LG_SRCDIR/tests/runtime/lib.sh"
P=$LG_BIN/annotate-custom

for c in spin-abba futex-abba; do
  lg_run "$c" -- "$P" "$c"
  expect_rc "$c" 66
  expect "$c" "one inversion" "kinds()" "['lock-order-inversion']"
  expect "$c" "both locks, by name" "sorted(l['name'] for l in f[0]['locks'])" "['lock A', 'lock B']"
  expect "$c" "lock type" "sorted(set(l['type'] for l in f[0]['locks']))" "['custom']"
  expect "$c" "the acquisition sites" "all('lock_lock' in funcs(e['stack']) for e in f[0]['edges'])" "True"
  check_grep "$c: text names the family" 'custom \(annotated\) lock A' "$T_TMP/$c.err"
done

for c in spin-deadlock futex-deadlock; do
  lg_run "$c" -- "$P" "$c"
  expect_rc "$c" 66
  expect "$c" "a deadlock" "kinds()" "['deadlock']"
  expect "$c" "two waiting threads" "len(set(e['thread'] for e in f[0]['edges'] if 'waiting' in e['flags']))" "2"
  expect "$c" "both locks" "sorted(l['name'] for l in f[0]['locks'])" "['lock A', 'lock B']"
done

lg_run self -- "$P" self
expect_rc self 66
expect self "a self-deadlock" "(kinds(), f[0]['self'])" "(['deadlock'], True)"

for c in spin-try read-read recursive foreign-unlock; do
  lg_run "$c" -- "$P" "$c"
  expect_rc "$c" 0
  expect "$c" "silent" "kinds()" "[]"
  check_grep "$c: ran to its end under the runtime" "^$c: done \(runtime [0-9]" "$T_TMP/$c.out"
done

# The same binary without the runtime.
for c in spin-abba futex-abba spin-try read-read recursive foreign-unlock; do
  check_status 0 "$c without the runtime" "$P" "$c"
  check_grep "$c: ran as a plain program" "^$c: done \(runtime none\)" "$T_TMP/out"
done
for c in spin-deadlock futex-deadlock; do
  # Native: a real deadlock never ends (124 is timeout's status for "still running").
  check_status 124 "$c without the runtime hangs" timeout 2 "$P" "$c"
done
done_tests
