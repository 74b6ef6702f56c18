/* findings-internal.h - the labels and pieces every wait builder (findings-deadlock.c,
 * findings-wait.c; findings-misuse.c its lock ids) words a finding with, so a thread, a lock
 * and a wait read the same in every kind. Not a public interface: findings.h is. */
#ifndef LG_FINDINGS_INTERNAL_H
#define LG_FINDINGS_INTERNAL_H

#include "findings.h"

/* "thread 12 "worker"" (and " of process P (comm)" when the facts span several). */
void lgf_thread_ref(const lg_thread_fact *t, char *buf, size_t len);
const lg_thread_fact *lgf_thread_by_tid(const lg_wait_facts *wf, int tid);
/* A lock: its name, else its address; a joined thread as a thread. */
void lgf_lock_ref(const lg_wait_facts *wf, int li, char *buf, size_t len);
/* "lock mutex_a" / "join thread 12 "w"": what thread t waits to do. */
void lgf_wait_ref(const lg_wait_facts *wf, const lg_thread_fact *t, char *buf, size_t len);
/* The finding's index of fact lock li (added once, with the report's label), or -1. */
int lgf_add_lock(lg_finding *f, const lg_wait_facts *wf, int li);
/* Lock i of f keeps its id unless another lock of f has it (a lock labelled by the report
 * took it): then it takes the lowest id no lock of f uses. */
void lgf_unique_id(lg_finding *f, size_t i);
/* lgf_unique_id for every lock of f that has no label among wf's locks. */
void lgf_unique_ids(lg_finding *f, const lg_wait_facts *wf);
int lgf_add_thread(lg_finding *f, const lg_thread_fact *t, const char *state);
const lg_held_fact *lgf_held_of(const lg_thread_fact *t, int li);

#endif
