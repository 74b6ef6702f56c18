/* json.c - the JSON reader (json.h): recursive descent over a length-bounded text. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "xalloc.h"

typedef struct parser {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
    bool failed;
} parser;

static void *fail(parser *p, const char *what)
{
    if (!p->failed)
        snprintf(p->err, p->errlen, "%s at byte %zu", what, p->pos);
    p->failed = true;
    return NULL;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
        p->pos++;
}

static bool literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static int hex4(parser *p, unsigned *out)
{
    if (p->len - p->pos < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | cp >> 6);
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xe0 | cp >> 12);
        d[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | cp >> 18);
    d[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    d[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* At the opening quote. The unescaped string is never longer than its source. */
static char *string(parser *p)
{
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len)
        return fail(p, "unterminated string");
    char *out = malloc(end - start + 1), *d = out;
    if (!out)
        return fail(p, "out of memory");
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c < 0x20) {
            free(out);
            return fail(p, "control character in a string");
        }
        if (c != '\\') {
            *d++ = (char)c;
            continue;
        }
        char e = p->s[p->pos++];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *k = e ? strchr(from, e) : NULL;
        if (k) {
            *d++ = to[k - from];
            continue;
        }
        unsigned cp, lo;
        if (e != 'u' || hex4(p, &cp) < 0) {
            free(out);
            return fail(p, "bad escape in a string");
        }
        if (cp >= 0xd800 && cp < 0xdc00) {   /* a high surrogate: its low half must follow */
            if (!literal(p, "\\u") || hex4(p, &lo) < 0 || lo < 0xdc00 || lo >= 0xe000) {
                free(out);
                return fail(p, "lone surrogate in a string");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
            free(out);
            return fail(p, "lone surrogate in a string");
        }
        d += utf8(d, cp);   /* at most 4 bytes for >= 6 source bytes */
    }
    *d = '\0';
    p->pos = end + 1;
    return out;
}

static lg_json *value(parser *p, int depth);

static lg_json *container(parser *p, lg_json *v, int depth)
{
    bool object = v->type == LG_JSON_OBJECT;
    char close = object ? '}' : ']';
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        if (object) {
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return fail(p, "expected a key");
            if (!(key = string(p)))
                return NULL;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                free(key);
                return fail(p, "expected ':'");
            }
            p->pos++;
        }
        lg_json *item = value(p, depth + 1);
        if (!item) {
            free(key);
            return NULL;
        }
        item->key = key;
        if (LG_APPEND(v->items, v->n, &item) < 0) {
            lg_json_free(item);
            return fail(p, "out of memory");
        }
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            return v;
        }
        return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static lg_json *number(parser *p, lg_json *v)
{
    size_t i = p->pos;
    if (i < p->len && p->s[i] == '-')
        i++;
    if (i >= p->len || p->s[i] < '0' || p->s[i] > '9')
        return fail(p, "bad number");
    if (p->s[i] == '0')
        i++;
    else
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    if (i < p->len && p->s[i] == '.') {
        if (++i >= p->len || p->s[i] < '0' || p->s[i] > '9')
            return fail(p, "bad number");
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (i >= p->len || p->s[i] < '0' || p->s[i] > '9')
            return fail(p, "bad number");
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    }
    char buf[64];
    size_t n = i - p->pos;
    if (n >= sizeof buf)
        return fail(p, "number too long");
    memcpy(buf, p->s + p->pos, n);
    buf[n] = '\0';
    v->number = strtod(buf, NULL);
    p->pos = i;
    return v;
}

static lg_json *value(parser *p, int depth)
{
    if (depth > LG_JSON_MAX_DEPTH)
        return fail(p, "nested too deeply");
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, "unexpected end");
    lg_json *v = calloc(1, sizeof *v);
    if (!v)
        return fail(p, "out of memory");
    v->start = p->pos;
    lg_json *ok = v;
    char c = p->s[p->pos];
    if (c == '{' || c == '[') {
        v->type = c == '{' ? LG_JSON_OBJECT : LG_JSON_ARRAY;
        ok = container(p, v, depth);
    } else if (c == '"') {
        v->type = LG_JSON_STRING;
        ok = (v->string = string(p)) ? v : NULL;
    } else if (literal(p, "true") || literal(p, "false")) {
        v->type = LG_JSON_BOOL;
        v->boolean = c == 't';
    } else if (literal(p, "null")) {
        v->type = LG_JSON_NULL;
    } else {
        v->type = LG_JSON_NUMBER;
        ok = number(p, v);
    }
    if (!ok) {
        lg_json_free(v);
        return NULL;
    }
    v->end = p->pos;
    return v;
}

lg_json *lg_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    parser p = {.s = text, .len = len, .err = err, .errlen = errlen};
    lg_json *v = value(&p, 0);
    if (!v)
        return NULL;
    skip_ws(&p);
    if (p.pos != len) {
        lg_json_free(v);
        fail(&p, "trailing characters");
        return NULL;
    }
    return v;
}

void lg_json_free(lg_json *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        lg_json_free(v->items[i]);
    free(v->items);
    free(v->string);
    free(v->key);
    free(v);
}

const lg_json *lg_json_get(const lg_json *obj, const char *key)
{
    if (!obj || obj->type != LG_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->items[i]->key, key) == 0)
            return obj->items[i];
    return NULL;
}

const char *lg_json_str_of(const lg_json *obj, const char *key)
{
    const lg_json *v = lg_json_get(obj, key);
    return v && v->type == LG_JSON_STRING ? v->string : NULL;
}

double lg_json_num_of(const lg_json *obj, const char *key, double dflt)
{
    const lg_json *v = lg_json_get(obj, key);
    return v && v->type == LG_JSON_NUMBER ? v->number : dflt;
}

bool lg_json_bool_of(const lg_json *obj, const char *key)
{
    const lg_json *v = lg_json_get(obj, key);
    return v && v->type == LG_JSON_BOOL && v->boolean;
}
