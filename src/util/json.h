/* json.h - a small JSON reader: text in, a tree out, every value with its span in the text.
 *
 * For reading lockgraph's own reports back (merging the reports of a run's processes), not a
 * general-purpose library: strict RFC 8259 syntax, depth bounded (LG_JSON_MAX_DEPTH),
 * numbers kept as doubles, strings unescaped into UTF-8 (\u escapes included, surrogate
 * pairs joined; a lone surrogate is an error). Memory is bounded by the text's length. Never
 * aborts: NULL with a message on error or when out of memory.
 */
#ifndef LG_JSON_H
#define LG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define LG_JSON_MAX_DEPTH 64

typedef enum { LG_JSON_NULL, LG_JSON_BOOL, LG_JSON_NUMBER, LG_JSON_STRING, LG_JSON_ARRAY,
               LG_JSON_OBJECT } lg_json_type;

typedef struct lg_json lg_json;
struct lg_json {
    lg_json_type type;
    size_t start, end;        /* the value's bytes in the text: [start, end) */
    bool boolean;
    double number;
    char *string;             /* strings: NUL-terminated (a \u0000 ends it early) */
    char *key;                /* members of an object: their key */
    lg_json **items;          /* arrays and objects: elements / members, in order */
    size_t n;
};

lg_json *lg_json_parse(const char *text, size_t len, char *err, size_t errlen);
void lg_json_free(lg_json *v);

/* Lookups that tolerate the wrong type: NULL / the default when absent or mistyped. */
const lg_json *lg_json_get(const lg_json *obj, const char *key);
const char *lg_json_str_of(const lg_json *obj, const char *key);
double lg_json_num_of(const lg_json *obj, const char *key, double dflt);
bool lg_json_bool_of(const lg_json *obj, const char *key);

#endif
