#!/usr/bin/env bash
# Consistent order (the fix): every file is created, moved and deleted, the summary says so,
# both folders end empty; the temporary directory is removed; --quiet; reusing --dir.
. "$LG_SRCDIR/tests/lib/sh-harness.sh"
demo=$LG_BIN/lockgraph-demo
empty_dir() { [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; }

# The write-up's size: 1000 files x 100 writes.
d=$T_TMP/full; mkdir "$d"
check_status 0 "consistent, 1000 x 100" timeout 120 "$demo" --order consistent --dir "$d"
check_grep "summary counts" '^summary: 1000 files created, 1000 moved, 1000 deleted, 1500 bytes each, in [0-9.]+ s; folder1 and folder2 are empty$' "$T_TMP/out"
check_lines "nothing on stderr" 0 "$T_TMP/err"
check "folder1 exists and is empty" empty_dir "$d/folder1"
check "folder2 exists and is empty" empty_dir "$d/folder2"
check_grep "creator line" "^creator: created 1000 files in $d/folder1, releasing resource1\$" "$T_TMP/out"
check_grep "mover line" "^mover: moved 1000 files to $d/folder2\$" "$T_TMP/out"
check_grep "deleter line" "^deleter: deleted 1000 files in $d/folder2\$" "$T_TMP/out"
# The story's order: the mover asks for resource1 during the creation run, the creator
# releases it, the mover finishes before the deleter deletes the last batch.
T_CHECKS=$((T_CHECKS + 1))
order=$(grep -oE '^(creator: created|mover: waiting|mover: moved|deleter: deleted)' "$T_TMP/out" | tr '\n' ,)
[ "$order" = "mover: waiting,creator: created,mover: moved,deleter: deleted," ] || fail "line order: $order"

# Same --dir again: the empty folders are reused.
check_status 0 "second run in the same --dir" timeout 60 "$demo" --order consistent --dir "$d" --files 10 --writes 3
check_grep "second run summary" '^summary: 10 files created, 10 moved, 10 deleted, 45 bytes each' "$T_TMP/out"

# A small run in a new temporary directory under TMPDIR, removed afterwards.
mkdir "$T_TMP/tmp"
check_status 0 "consistent, 10 x 3, temporary dir" env TMPDIR="$T_TMP/tmp" timeout 60 "$demo" --order consistent --files 10 --writes 3
check_grep "small summary" '^summary: 10 files created, 10 moved, 10 deleted, 45 bytes each, in [0-9.]+ s; folder1 and folder2 were empty and are removed$' "$T_TMP/out"
check_grep "temporary dir named in the first line" "^lockgraph-demo: 10 files x 3 writes in $T_TMP/tmp/lockgraph-demo\\.[A-Za-z0-9]{6}, consistent order" "$T_TMP/out"
check "temporary dir removed" empty_dir "$T_TMP/tmp"

# --quiet: the summary only.
check_status 0 "--quiet" timeout 60 "$demo" --order consistent --files 20 --writes 1 --quiet --dir "$d"
check_lines "--quiet prints one line" 1 "$T_TMP/out"
check_grep "--quiet line is the summary" '^summary: 20 files created, 20 moved, 20 deleted, 15 bytes each' "$T_TMP/out"

# Leftovers in folder1 are refused, not deleted.
mkdir -p "$T_TMP/left/folder1"; echo x >"$T_TMP/left/folder1/mine"
check_status 1 "non-empty folder1" timeout 60 "$demo" --order consistent --dir "$T_TMP/left"
check_lines "non-empty folder1: one line" 1 "$T_TMP/err"
check_grep "non-empty folder1 named" "^lockgraph-demo: cannot use '$T_TMP/left/folder1': it is not empty" "$T_TMP/err"
check "leftover kept" test -f "$T_TMP/left/folder1/mine"
done_tests
