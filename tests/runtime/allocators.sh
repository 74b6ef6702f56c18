# allocators.sh - programs with another allocator (preloaded, or linked like redis-server
# with jemalloc) start, run and exit under `lockgraph run` and `record` exactly as bare: same
# stdout, same exit status, no finding. The runtime never enters the program's allocator
# from inside a lock call (jemalloc takes its init mutex with a trylock from a library
# constructor, before ours ran: a runtime that mallocs there spun for ever).
. "$(dirname "$0")/lib.sh"
PROC=$LG_BIN/rt-process
LIBDIR=/usr/lib/x86_64-linux-gnu
ALLOCS="$LIBDIR/libjemalloc.so.2 $LIBDIR/libtcmalloc_minimal.so.4 $LIBDIR/libmimalloc.so.2"

# same NAME PRELOAD PROG ARGS...: bare, run and record of PROG agree; no finding, a trace.
same() {
  local name=$1 pre=$2; shift 2
  env ${pre:+LD_PRELOAD=$pre} timeout -k 5 60 "$@" >"$T_TMP/$name.bare" 2>/dev/null
  local bare=$?
  env ${pre:+LD_PRELOAD=$pre} timeout -k 5 60 "$LG" run --json "$T_TMP/$name.json" -- "$@" \
    >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
  RC=$?
  expect_rc "$name" "$bare"
  T_CHECKS=$((T_CHECKS + 1))
  cmp -s "$T_TMP/$name.bare" "$T_TMP/$name.out" || fail "$name: stdout differs from bare"
  expect "$name" "no finding" "kinds()" "[]"
  env ${pre:+LD_PRELOAD=$pre} timeout -k 5 60 "$LG" record -o "$T_TMP/$name.trace" \
    --json "$T_TMP/$name-rec.json" -- "$@" >"$T_TMP/$name-rec.out" 2>"$T_TMP/$name-rec.err"
  RC=$?
  expect_rc "$name-rec" "$bare"
  T_CHECKS=$((T_CHECKS + 1))
  cmp -s "$T_TMP/$name.bare" "$T_TMP/$name-rec.out" || fail "$name: record: stdout differs from bare"
  expect "$name-rec" "no finding under record" "kinds()" "[]"
  check_status 0 "$name: the trace reads" "$LG" report "$T_TMP/$name.trace"
}

for a in $ALLOCS; do
  check "$a is installed (scripts/deps.sh)" test -f "$a"
  n=$(basename "$a" | cut -d. -f1)
  same "$n-threads" "$a" "$PROC" alloc-threads
  check_grep "$n: the threads ran" "^alloc-threads: 4 threads, sum [0-9]+$" "$T_TMP/$n-threads.out"
  same "$n-ls" "$a" ls -l "$LG_SRCDIR/docs"
done

# redis-server links jemalloc (its constructors lock before ours runs).
same redis-version "" redis-server --version
check_grep "redis --version" "^Redis server v=" "$T_TMP/redis-version.out"

# A real server on a unix socket: PING, a key, SHUTDOWN; bounded.
redis_serve() {
  local name=$1; shift
  local sock="$T_TMP/$name.sock"
  timeout -k 5 60 "$@" redis-server --port 0 --unixsocket "$sock" --save '' \
    --appendonly no --dir "$T_TMP" --loglevel warning >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" &
  local pid=$! i
  # Until the socket is there or the server is gone (its own 60 s bound): a loaded machine
  # may take more than a few seconds to start redis under the runtime.
  for i in $(seq 1200); do [ -S "$sock" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  timeout 10 redis-cli -s "$sock" PING >"$T_TMP/$name.cli" 2>&1
  timeout 10 redis-cli -s "$sock" SET k v >>"$T_TMP/$name.cli" 2>&1
  timeout 10 redis-cli -s "$sock" GET k >>"$T_TMP/$name.cli" 2>&1
  timeout 10 redis-cli -s "$sock" SHUTDOWN NOSAVE >>"$T_TMP/$name.cli" 2>&1
  wait "$pid"
  RC=$?
}
redis_serve redis-bare
bare_rc=$RC
printf 'PONG\nOK\nv\n' >"$T_TMP/redis-want.cli"
T_CHECKS=$((T_CHECKS + 1))
cmp -s "$T_TMP/redis-want.cli" "$T_TMP/redis-bare.cli" || fail "bare redis: $(cat "$T_TMP/redis-bare.cli")"
redis_serve redis-run "$LG" run --json "$T_TMP/redis-run.json" --
expect_rc redis-run "$bare_rc"
T_CHECKS=$((T_CHECKS + 1))
cmp -s "$T_TMP/redis-want.cli" "$T_TMP/redis-run.cli" || fail "redis under run: $(cat "$T_TMP/redis-run.cli")"
expect redis-run "no finding" "kinds()" "[]"
redis_serve redis-rec "$LG" record -o "$T_TMP/redis.trace" --json "$T_TMP/redis-rec.json" --
expect_rc redis-rec "$bare_rc"
T_CHECKS=$((T_CHECKS + 1))
cmp -s "$T_TMP/redis-want.cli" "$T_TMP/redis-rec.cli" || fail "redis under record: $(cat "$T_TMP/redis-rec.cli")"
expect redis-rec "no finding" "kinds()" "[]"
check_status 0 "redis trace reads" "$LG" report "$T_TMP/redis.trace"

done_tests
