/* test-rtstate.c - reading the lockgraph runtime's published state (src/inspect/rtstate.c)
 * from a synthetic target memory laid out differently from the real runtime (the offsets in
 * the header are what counts): threads, held locks with their stacks or call sites, waits;
 * then everything a stopped-mid-update or foreign runtime can show: a looping thread list, an
 * unknown version, a bad magic, an absurd depth, offsets outside the record. Runs under
 * ASan/UBSan: nothing read from the target may crash or run away. */
#include <stdlib.h>

#include "t.h"

#include "inspect/internal.h"
#include "runtime/published.h"

enum { BASE = 0x10000, SIZE = 0x8000 };
enum { HDR = 0x10000, REG = 0x11000, STARTS_VAR = 0x11010, COUNT_VAR = 0x11018,
       ARENA_VAR = 0x11020, REC_A = 0x12000, REC_B = 0x12100, HELD_A = 0x12800,
       HELD_B = 0x12900, STARTS = 0x13000, ARENA = 0x13800, LOCKREC = 0x14000 };

static unsigned char mem[SIZE];

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    (void)ctx;
    if (addr < BASE || addr + len > BASE + SIZE || addr + len < addr)
        return -1;
    memcpy(buf, mem + (addr - BASE), len);
    return 0;
}

static void put(uint64_t addr, const void *v, size_t n)
{
    memcpy(mem + (addr - BASE), v, n);
}
static void put64(uint64_t addr, uint64_t v) { put(addr, &v, 8); }
static void put32(uint64_t addr, uint32_t v) { put(addr, &v, 4); }
static void put16(uint64_t addr, uint16_t v) { put(addr, &v, 2); }
static void put8(uint64_t addr, uint8_t v) { put(addr, &v, 1); }

/* A runtime whose records are laid out unlike ours. */
static lg_pub_state hdr(void)
{
    lg_pub_state s = {
        .magic = LG_PUB_MAGIC, .version = LG_PUB_VERSION, .size = sizeof(lg_pub_state),
        .registry = REG, .thread_size = 128, .th_next = 0, .th_tid = 8, .th_name = 16,
        .th_exited = 32, .th_held = 40, .th_depth = 48, .th_wait_lock = 56,
        .th_wait_mode = 64, .th_wait_cond = 72, .th_wait_flags = 80, .th_wait_join = 88,
        .th_wait_seq = 96, .held_size = 48, .hd_addr = 0, .hd_mode = 8, .hd_count = 10,
        .hd_stack = 12, .hd_pc = 16, .lk_addr = 0, .stack_starts = STARTS_VAR,
        .stack_count = COUNT_VAR, .stack_arena = ARENA_VAR,
    };
    return s;
}

static void image(void)
{
    memset(mem, 0, sizeof mem);
    lg_pub_state s = hdr();
    put(HDR, &s, sizeof s);
    put64(REG, REC_A);
    put64(STARTS_VAR, STARTS);
    put64(COUNT_VAR, 2);              /* ids 0 (none) and 1 */
    put64(ARENA_VAR, ARENA);
    put64(STARTS + 8, 0ull << 8 | 3); /* id 1: 3 frames at arena[0] */
    put64(ARENA, 0x401100);
    put64(ARENA + 8, 0x401200);
    put64(ARENA + 16, 0x401300);
    /* thread A: read-holds 0x5000 (stack 1), waits for the lock at 0x5100 (untimed) */
    put64(REC_A + 0, REC_B);
    put32(REC_A + 8, 101);
    put(REC_A + 16, "reader-x", 9);
    put64(REC_A + 40, HELD_A);
    put32(REC_A + 48, 1);
    put64(REC_A + 56, LOCKREC);
    put64(LOCKREC, 0x5100);
    put64(REC_A + 96, 7);
    put64(HELD_A + 0, 0x5000);
    put8(HELD_A + 8, 1);
    put16(HELD_A + 10, 1);
    put32(HELD_A + 12, 1);
    /* thread B: holds 0x5200 exclusively, no stack id (call site only), joins A, timed */
    put64(REC_B + 0, 0);
    put32(REC_B + 8, 102);
    put(REC_B + 16, "locker", 7);
    put64(REC_B + 40, HELD_B);
    put32(REC_B + 48, 1);
    put8(REC_B + 80, LG_PUB_WAIT_TIMED);
    put64(REC_B + 88, REC_A);
    put64(HELD_B + 0, 0x5200);
    put16(HELD_B + 10, 1);
    put64(HELD_B + 16, 0x401234);
}

static insp_target tg;

static void fresh(void)
{
    insp_target_free(&tg);
    memset(&tg, 0, sizeof tg);
    tg.read = fake_read;
    tg.has_runtime = true;
    snprintf(tg.runtime_path, sizeof tg.runtime_path, "/x/liblockgraph.so");
}

static bool noted(const char *what)
{
    for (size_t i = 0; i < tg.nnotes; i++)
        if (strstr(tg.notes[i], what))
            return true;
    return false;
}

int main(void)
{
    image();
    fresh();
    rtstate_read_at(&tg, HDR);
    CHECK(tg.rt_known);
    CHECK_INT(tg.rt_version, 1);
    CHECK_INT(tg.nrtt, 2);
    const insp_rt_thread *a = rtstate_thread(&tg, 101), *b = rtstate_thread(&tg, 102);
    CHECK(a && b);
    if (a && b) {
        CHECK_STR(a->name, "reader-x");
        CHECK_INT(a->nheld, 1);
        CHECK_INT(a->held[0].addr, 0x5000);
        CHECK_INT(a->held[0].mode, LG_MODE_SHARED);
        CHECK_INT(a->held[0].npcs, 3);
        CHECK_INT(a->held[0].pcs[2], 0x401300);
        CHECK_INT(a->wait_lock, 0x5100);
        CHECK(!a->wait_timed);
        CHECK_INT(b->held[0].mode, LG_MODE_EXCLUSIVE);
        CHECK_INT(b->held[0].npcs, 1);
        CHECK_INT(b->held[0].pcs[0], 0x401234);
        CHECK(b->wait_timed);
        CHECK_INT(b->join_tid, 101);
        CHECK(rtstate_held(&tg, 101, 0x5000) == &a->held[0]);
        CHECK(rtstate_held(&tg, 101, 0x5200) == NULL);
    }
    /* the live probe's view needs a process: none here */
    insp_rt_wait w[4];
    CHECK_INT(rtstate_live_waits(0x3fffffff, w, 4), 0);

    /* A thread list that loops (B -> A -> B ...): ends, says so. */
    put64(REC_B + 0, REC_A);
    fresh();
    rtstate_read_at(&tg, HDR);
    CHECK(tg.nrtt >= 2 && tg.nrtt <= 4);
    CHECK(noted("cut short"));
    put64(REC_B + 0, 0);

    /* An absurd depth with the held array partly outside memory: nothing read, no crash. */
    put32(REC_A + 48, 0xffffffffu);
    fresh();
    rtstate_read_at(&tg, HDR);
    CHECK(tg.rt_known);
    a = rtstate_thread(&tg, 101);
    CHECK(a && a->nheld == 0);
    put32(REC_A + 48, 1);

    /* Unknown version: not used, one note. */
    lg_pub_state s = hdr();
    s.version = 2;
    put(HDR, &s, sizeof s);
    fresh();
    rtstate_read_at(&tg, HDR);
    CHECK(!tg.rt_known);
    CHECK_INT(tg.nrtt, 0);
    CHECK(noted("publishes state version 2"));

    /* Not published yet (no magic), and no symbol at all. */
    s = hdr();
    s.magic = 0;
    put(HDR, &s, sizeof s);
    fresh();
    rtstate_read_at(&tg, HDR);
    CHECK(!tg.rt_known);
    CHECK(noted("had not published"));
    fresh();
    rtstate_read_at(&tg, 0);
    CHECK(!tg.rt_known);
    CHECK(noted("was not found"));

    /* An offset outside its record: inconsistent, not used. */
    s = hdr();
    s.th_depth = 126;
    put(HDR, &s, sizeof s);
    fresh();
    rtstate_read_at(&tg, HDR);
    CHECK(!tg.rt_known);
    CHECK(noted("inconsistent"));

    insp_target_free(&tg);
    T_DONE();
}
