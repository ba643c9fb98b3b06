/* libFuzzer harness: the run-search filter (tracking/filter.c). Parsing never crashes or leaks;
 * on success the SQL is made only of the module's fixed fragments (its words, digits of
 * parameter numbers and a few punctuation bytes; no ';', no '"', no "--"), every $n in it is
 * one of the parameters and every parameter is used, and every value is a NUL-terminated text
 * no longer than a key or a string may be; on error the filter is zeroed and the message names
 * the filter. */
#include "tracking/filter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRST 2

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const words[] = {
    "EXISTS", "SELECT", "FROM", "metrics", "m", "WHERE", "run_id", "r", "id", "AND", "key",
    "step", "value", "NaN", "float8", "jsonb_typeof", "params", "number", "to_jsonb",
    "numeric", "tags", "status", "strategy", "name", "bigint", "start_time", "end_time",
    "to_timestamp", "LIKE", "ILIKE", "TRUE",
};

static bool
is_word_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
is_word_char(char c)
{
    return is_word_start(c) || (c >= '0' && c <= '9');
}

static void
check_sql(const struct run_filter *f)
{
    bool used[2 * RUN_FILTER_MAX_CONDS] = {false};
    const char *s = f->sql;

    if (s == NULL || strchr(s, ';') || strchr(s, '"') || strstr(s, "--"))
        abort();
    if (f->nvalues < 0 || f->nvalues > 2 * RUN_FILTER_MAX_CONDS)
        abort();
    while (*s) {
        if (is_word_start(*s)) {
            size_t n = 0, k;
            while (is_word_char(s[n]))
                n++;
            for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
                if (strlen(words[k]) == n && strncmp(words[k], s, n) == 0)
                    break;
            if (k == sizeof(words) / sizeof(words[0]))
                abort();
            s += n;
        } else if (*s == '$') {
            long no = 0;
            s++;
            if (!(*s >= '0' && *s <= '9'))
                abort();
            while (*s >= '0' && *s <= '9' && no < 100000)
                no = no * 10 + (*s++ - '0');
            if (no < FIRST || no >= FIRST + f->nvalues)
                abort();
            used[no - FIRST] = true;
        } else if (strchr("0123456789 ().:'<>=/-", *s) != NULL) {
            s++;
        } else {
            abort();
        }
    }
    for (int i = 0; i < f->nvalues; i++)
        if (!used[i])
            abort();
    /* the only quoted SQL literals are the fixed 'number' and 'NaN' */
    for (s = strchr(f->sql, '\''); s != NULL; s = strchr(s, '\'')) {
        if (strncmp(s, "'number'", 8) == 0)
            s += 8;
        else if (strncmp(s, "'NaN'", 5) == 0)
            s += 5;
        else
            abort();
    }
    if (f->nvalues == 0 ? strcmp(f->sql, "TRUE") != 0 || f->values != NULL : f->values == NULL)
        abort();
    for (int i = 0; i < f->nvalues; i++)
        if (f->values[i] == NULL ||
            memchr(f->values[i], '\0', RUN_FILTER_MAX_STR + 1) == NULL)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run_filter f;
    struct qd_err err = {0};
    /* an exact-size copy, so that a read past len is an ASan error */
    char *text = malloc(size ? size : 1);

    if (text == NULL)
        return 0;
    if (size)
        memcpy(text, data, size);
    switch (run_filter_parse(text, size, FIRST, &f, &err)) {
    case QD_OK:
        check_sql(&f);
        break;
    case QD_EINVAL:
        if (f.sql != NULL || f.values != NULL || f.nvalues != 0 ||
            strncmp(err.msg, "filter: ", 8) != 0)
            abort();
        break;
    default:
        abort();                    /* QD_ENOMEM aside, nothing else may come back */
    }
    run_filter_release(&f);
    free(text);
    return 0;
}
