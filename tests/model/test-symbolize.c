/* test-symbolize.c - symbolize this very process: our own function with file:line, a libc
 * function by module, return-address adjustment, the cache, and demangling. */
#include <stdint.h>
#include <unistd.h>

#include "symbolize/symbolize.h"
#include "t.h"

__attribute__((noinline)) static uintptr_t marker(void)
{
    return (uintptr_t)__builtin_return_address(0);
}

/* A two-level inline chain inside a real function: inner_step is inlined into middle_step,
 * which is inlined into outer_fn. The PC captured by capture() lies in all three. */
__attribute__((noinline)) static uintptr_t capture(void)
{
    return (uintptr_t)__builtin_return_address(0);
}
/* (The empty asm after the call keeps it from becoming a tail call, which has no return
 * address inside the inlined code.) */
static inline __attribute__((always_inline)) uintptr_t inner_step(void) { uintptr_t r = capture(); __asm__ volatile("" ::: "memory"); return r; } enum { INNER_LINE = __LINE__ };
static inline __attribute__((always_inline)) uintptr_t middle_step(void) { return inner_step() + 0; } enum { MIDDLE_LINE = __LINE__ };
static const int outer_line = __LINE__ + 3;   /* the `return middle_step();` below */
__attribute__((noinline)) static uintptr_t outer_fn(void)
{
    return middle_step();
}

int main(void)
{
    char err[256];
    lg_symbolizer *s = lg_symbolizer_open_pid(getpid(), err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        T_DONE();

    uint64_t pcs[2] = {(uintptr_t)&marker, marker()}; enum { CALL_LINE = __LINE__ };
    lg_stack st = {0};
    CHECK_INT(lg_symbolize(s, pcs, 2, true, &st), 0);
    CHECK(st.n >= 2);
    CHECK_STR(st.frames[0].function, "marker");
    CHECK(st.frames[0].file && strstr(st.frames[0].file, "test-symbolize.c"));
    CHECK(st.frames[0].line >= 9 && st.frames[0].line <= 11);   /* the function's entry */
    CHECK(st.frames[0].module && strstr(st.frames[0].module, "test-symbolize"));
    const lg_frame *caller = &st.frames[st.n - 1];
    CHECK_STR(caller->function, "main");
    CHECK_INT(caller->line, CALL_LINE);   /* the line of the call to marker(), not the next one */

    /* A libc function: module is libc, name from its symbol table. */
    lg_stack lib = {0};
    uint64_t pc = (uintptr_t)&fork;
    CHECK_INT(lg_symbolize(s, &pc, 1, true, &lib), 0);
    CHECK(lib.n >= 1 && lib.frames[0].module && strstr(lib.frames[0].module, "libc.so"));
    CHECK(lib.frames[0].function && strstr(lib.frames[0].function, "fork"));

    /* Cached: the same answer again. */
    lg_stack again = {0};
    CHECK_INT(lg_symbolize(s, pcs, 2, true, &again), 0);
    CHECK_INT(again.n, st.n);
    CHECK_STR(again.frames[0].function, "marker");

    /* Unmapped address: a frame with no module, no crash. */
    lg_stack none = {0};
    pc = 0x10;
    CHECK_INT(lg_symbolize(s, &pc, 1, true, &none), 0);
    CHECK(none.n == 1 && none.frames[0].module == NULL && none.frames[0].function == NULL);

    /* Every inlined level, innermost first, then the function they were inlined into, each
     * at the line of the call into the level below (as eu-addr2line -i reports). */
    lg_stack inl = {0};
    pc = outer_fn();
    CHECK_INT(lg_symbolize(s, &pc, 1, false, &inl), 0);
    CHECK_INT(inl.n, 3);
    if (inl.n == 3) {
        CHECK_STR(inl.frames[0].function, "inner_step");
        CHECK(inl.frames[0].inlined);
        CHECK_STR(inl.frames[1].function, "middle_step");
        CHECK(inl.frames[1].inlined);
        CHECK_STR(inl.frames[2].function, "outer_fn");
        CHECK(!inl.frames[2].inlined);
        CHECK_INT(inl.frames[0].line, INNER_LINE);   /* inner_step's call to capture() */
        CHECK_INT(inl.frames[1].line, MIDDLE_LINE);   /* middle_step's call to inner_step() */
        CHECK_INT(inl.frames[2].line, outer_line);   /* outer_fn's call to middle_step() */
    }
    lg_stack_free(&inl);

    char *d = lg_demangle("_ZN2ns3fooEi");
    CHECK_STR(d, "ns::foo(int)");
    free(d);
    d = lg_demangle("plain_c");
    CHECK_STR(d, "plain_c");
    free(d);

    lg_stack_free(&st);
    lg_stack_free(&lib);
    lg_stack_free(&again);
    lg_stack_free(&none);
    lg_symbolizer_close(s);
    T_DONE();
}
