/* lockgraph.h - the public interface of the lockgraph runtime (liblockgraph.so).
 *
 * Programs need nothing from here to be checked: `lockgraph run -- PROG` preloads the
 * runtime. This header is for programs that want to talk to it: name their locks, or
 * describe custom locks the runtime cannot see. Every function is safe to call when the
 * runtime is not loaded if you declare it weak, e.g. via LG_WEAK below.
 */
#ifndef LOCKGRAPH_H
#define LOCKGRAPH_H

#ifdef __cplusplus
extern "C" {
#endif

#define LOCKGRAPH_VERSION_MAJOR 0
#define LOCKGRAPH_VERSION_MINOR 1

/* The runtime's version string, e.g. "0.1.0". */
const char *lg_version(void);

#ifdef __cplusplus
}
#endif

#endif
