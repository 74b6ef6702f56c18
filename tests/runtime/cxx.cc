// cxx.cc - the C++ standard locks, which libstdc++ builds on the pthread calls.
//   cxx MODE: mutex-abba | scoped-both | shared-rdrd | recursive | timed-abba
#include <chrono>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>

static std::mutex ma, mb;
static std::shared_mutex sx, sy;
static std::recursive_mutex rm;
static std::timed_mutex ta, tb;

__attribute__((noinline)) static void mutex_ab() { std::lock_guard<std::mutex> a(ma); std::lock_guard<std::mutex> b(mb); }
__attribute__((noinline)) static void mutex_ba() { std::lock_guard<std::mutex> b(mb); std::lock_guard<std::mutex> a(ma); }
__attribute__((noinline)) static void scoped_ab() { std::scoped_lock l(ma, mb); }
__attribute__((noinline)) static void scoped_ba() { std::scoped_lock l(mb, ma); }
__attribute__((noinline)) static void shared_xy() { std::shared_lock<std::shared_mutex> x(sx); std::shared_lock<std::shared_mutex> y(sy); }
__attribute__((noinline)) static void shared_yx() { std::shared_lock<std::shared_mutex> y(sy); std::shared_lock<std::shared_mutex> x(sx); }
__attribute__((noinline)) static void recursive() { std::lock_guard<std::recursive_mutex> a(rm); { std::lock_guard<std::recursive_mutex> b(rm); std::lock_guard<std::mutex> m(ma); } }
__attribute__((noinline)) static void timed_ab() { std::lock_guard<std::timed_mutex> a(ta); if (tb.try_lock_for(std::chrono::seconds(2))) tb.unlock(); }
__attribute__((noinline)) static void timed_ba() { std::lock_guard<std::timed_mutex> b(tb); std::lock_guard<std::timed_mutex> a(ta); }

static void in_thread(void (*f)()) { std::thread t(f); t.join(); }

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    const char *m = argv[1];
    if (!strcmp(m, "mutex-abba")) { in_thread(mutex_ab); in_thread(mutex_ba); }
    else if (!strcmp(m, "scoped-both")) {
        for (int i = 0; i < 1000; i++) { std::thread a(scoped_ab), b(scoped_ba); a.join(); b.join(); }
    }
    else if (!strcmp(m, "shared-rdrd")) { in_thread(shared_xy); in_thread(shared_yx); }
    else if (!strcmp(m, "recursive")) { in_thread(recursive); in_thread(recursive); }
    else if (!strcmp(m, "timed-abba")) { in_thread(timed_ab); in_thread(timed_ba); }
    else return 2;
    return 0;
}
