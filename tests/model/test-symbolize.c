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

int main(void)
{
    char err[256];
    lg_symbolizer *s = lg_symbolizer_open_pid(getpid(), err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        T_DONE();

    uint64_t pcs[2] = {(uintptr_t)&marker, marker()};
    lg_stack st = {0};
    CHECK_INT(lg_symbolize(s, pcs, 2, true, &st), 0);
    CHECK(st.n >= 2);
    CHECK_STR(st.frames[0].function, "marker");
    CHECK(st.frames[0].file && strstr(st.frames[0].file, "test-symbolize.c"));
    CHECK(st.frames[0].line >= 9 && st.frames[0].line <= 11);   /* the function's entry */
    CHECK(st.frames[0].module && strstr(st.frames[0].module, "test-symbolize"));
    const lg_frame *caller = &st.frames[st.n - 1];
    CHECK_STR(caller->function, "main");
    CHECK_INT(caller->line, 22);   /* the line of the call to marker(), not the next one */

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
