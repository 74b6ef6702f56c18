#!/usr/bin/env bash
# stress.sh - the announcement of annotated locks takes no runtime lock when nothing holds
# the lock up (src/runtime/wait.c, "announced waits"); what that must keep exact, under load:
# - abba-hammer: an annotated live deadlock is caught (66, one deadlock of the two waiting
#   threads over A and B) while two other threads hammer uncontended annotated pairs;
# - abba-shared: the same on locks whose hint says anyone may hold them (used by many
#   threads, read by two readers at once);
# - storm: a signal storm on two workers whose handler takes an annotated lock and a pthread
#   mutex: the same status and output as without the runtime, and no finding.
# Each deadlock case runs several times (a run ends at its deadlock). `timeout` (lg_run) is
# only a hang guard.
. "$LG_SRCDIR/tests/runtime/lib.sh"
P=$LG_BIN/annotate-stress

for c in abba-hammer abba-shared; do
  for i in 1 2 3 4; do
    n=$c-$i
    lg_run "$n" -- "$P" "$c"
    expect_rc "$n" 66
    expect "$n" "one deadlock" "kinds()" "['deadlock']"
    expect "$n" "two waiting threads" "len(set(e['thread'] for e in f[0]['edges'] if 'waiting' in e['flags']))" "2"
    expect "$n" "over A and B" "sorted(l['name'] for l in f[0]['locks'])" "['lock A', 'lock B']"
    check_grep "$n: the program got there" '^ready$' "$T_TMP/$n.out"
  done
  # Without the runtime the deadlock never ends (124: still running at timeout).
  check_status 124 "$c without the runtime hangs" timeout 2 "$P" "$c"
done

check_status 0 "storm without the runtime" "$P" storm
cp "$T_TMP/out" "$T_TMP/storm-bare.out"
check_grep "storm: bare run done" '^storm: 2 workers x [0-9]+ pairs done' "$T_TMP/storm-bare.out"
for i in 1 2 3; do
  n=storm-$i
  lg_run "$n" -- "$P" storm
  expect_rc "$n" 0
  expect "$n" "no finding" "kinds()" "[]"
  T_CHECKS=$((T_CHECKS + 1))
  cmp -s "$T_TMP/storm-bare.out" "$T_TMP/$n.out" \
    || fail "$n: output differs from the bare run: $(cat "$T_TMP/$n.out")"
done
done_tests
