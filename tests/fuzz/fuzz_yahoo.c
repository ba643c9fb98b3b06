/* libFuzzer harness: Yahoo chart JSON (feeds/yahoo.c, feeds/yahoo_scan.c). A differential
 * check: yahoo_parse_chart (the scanner first, jansson as the fallback) must give exactly
 * what the jansson parser alone gives (return code, message, bars bit for bit, stats,
 * actions); yahoo_scan_chart answers only QD_OK or QD_EINTERNAL, and changes nothing when it
 * falls back. Aborts on any difference.
 * The input is a whole answer, or, when its first byte is 1..7, a fragment put into one place
 * of a valid answer (raw inputs are mostly not JSON; fragments reach the success paths). Bars
 * and an action are already in the outputs when the size is a multiple of 3 (the parsers
 * append). */
#include "feeds/yahoo.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    struct bar_series b;
    struct yahoo_actions a;
    struct yahoo_stats st;
    struct qd_err err;
    enum qd_code rc;
};

static void
run_init(struct run *r, bool pre)
{
    memset(r, 0, sizeof(*r));
    bar_series_init(&r->b, 0);
    if (pre) {
        for (int i = 0; i < 3; i++)
            if (bar_series_push(&r->b, 20000 + i, 1, 2, 0.5, 1.5, 1.4, 7) != QD_OK)
                abort();
        r->a.a = malloc(sizeof(*r->a.a));
        if (r->a.a == NULL)
            abort();
        r->a.cap = 1;
        r->a.a[r->a.n++] = (struct yahoo_action){.day = 19999, .kind = 'D', .value = 0.1};
    }
}

static void
run_release(struct run *r)
{
    bar_series_release(&r->b);
    yahoo_actions_release(&r->a);
}

static bool
same(const struct run *x, const struct run *y)
{
    const struct bar_series *p = &x->b, *q = &y->b;

    if (x->rc != y->rc || x->st.skipped_nulls != y->st.skipped_nulls ||
        x->st.skipped_bad != y->st.skipped_bad || x->st.empty != y->st.empty ||
        p->n != q->n || x->a.n != y->a.n)
        return false;
    if (x->rc != QD_OK && (x->err.code != y->err.code || strcmp(x->err.msg, y->err.msg) != 0))
        return false;
    if (p->n > 0 &&
        (memcmp(p->day, q->day, p->n * sizeof(*p->day)) != 0 ||
         memcmp(p->open, q->open, p->n * sizeof(*p->open)) != 0 ||
         memcmp(p->high, q->high, p->n * sizeof(*p->high)) != 0 ||
         memcmp(p->low, q->low, p->n * sizeof(*p->low)) != 0 ||
         memcmp(p->close, q->close, p->n * sizeof(*p->close)) != 0 ||
         memcmp(p->adj_close, q->adj_close, p->n * sizeof(*p->adj_close)) != 0 ||
         memcmp(p->volume, q->volume, p->n * sizeof(*p->volume)) != 0))
        return false;
    for (size_t i = 0; i < x->a.n; i++)
        if (x->a.a[i].day != y->a.a[i].day || x->a.a[i].kind != y->a.a[i].kind ||
            memcmp(&x->a.a[i].value, &y->a.a[i].value, sizeof(double)) != 0)
            return false;
    return true;
}

/* Where a fragment goes: between prefix and suffix. */
static const char *const splice[][2] = {
    {"", ""},
    {"{\"chart\":{\"result\":[{\"meta\":{\"gmtoffset\":-14400},\"timestamp\":[1716989400,"
     "1717075800],\"indicators\":{\"quote\":[{\"open\":[1,2],\"high\":[1,2],\"low\":[1,2],"
     "\"close\":[1,2],\"volume\":[1,2]}]},\"x\":",
     "}],\"error\":null}}"},
    {"{\"chart\":{\"result\":[{\"timestamp\":[1716989400,1717075800,1717162200],\"indicators\":"
     "{\"quote\":[{\"open\":[1,2,3],\"high\":[1,2,3],\"low\":[1,2,3],\"volume\":[1,2,3],"
     "\"close\":[",
     "]}]}}]}}"},
    {"{\"chart\":{\"result\":[{\"meta\":{\"gmtoffset\":3600},\"timestamp\":[],\"indicators\":"
     "{\"quote\":[{}]},\"events\":",
     "}]}}"},
    {"{\"chart\":{\"result\":[{\"timestamp\":[86400],\"indicators\":{\"quote\":[{\"open\":[1],"
     "\"high\":[1],\"low\":[1],\"close\":[1],\"volume\":[1]}]},\"meta\":",
     "}]}}"},
    {"{\"chart\":{\"result\":[{", "}],\"error\":null}}"},
    {"{\"chart\":{\"result\":[{\"indicators\":{\"quote\":[{\"open\":[1,2],\"high\":[1,2],"
     "\"low\":[1,2],\"close\":[1,2],\"volume\":[1,2]}]},\"timestamp\":[",
     "]}]}}"},
    {"{\"chart\":{\"result\":[{\"timestamp\":[1716989400,1717075800],\"indicators\":", "}]}}"},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned mode = size > 0 && data[0] >= 1 && data[0] <= 7 ? data[0] : 0;
    size_t np = strlen(splice[mode][0]), ns = strlen(splice[mode][1]);
    size_t len = mode ? np + size - 1 + ns : size;
    char *json = malloc(len ? len : 1);     /* exactly len bytes: ASan sees reads past them */
    bool pre = size % 3 == 0;
    struct run fast, ref, scan;

    if (json == NULL)
        abort();
    if (mode) {
        memcpy(json, splice[mode][0], np);
        memcpy(json + np, data + 1, size - 1);
        memcpy(json + np + size - 1, splice[mode][1], ns);
    } else if (size > 0) {
        memcpy(json, data, size);
    }
    size = len;
    run_init(&fast, pre);
    run_init(&ref, pre);
    run_init(&scan, pre);
    fast.rc = yahoo_parse_chart(json, size, &fast.b, &fast.a, &fast.st, &fast.err);
    ref.rc = yahoo_parse_chart_jansson(json, size, &ref.b, &ref.a, &ref.st, &ref.err);
    if (!same(&fast, &ref))
        abort();
    scan.rc = yahoo_scan_chart(json, size, &scan.b, &scan.a, &scan.st, &scan.err);
    if (scan.rc == QD_OK) {
        scan.err = ref.err;
        if (!same(&scan, &ref))
            abort();
    } else if (scan.rc != QD_EINTERNAL || scan.b.n != (pre ? 3u : 0u) ||
               scan.a.n != (pre ? 1u : 0u)) {
        abort();
    }
    run_release(&fast);
    run_release(&ref);
    run_release(&scan);
    {
        /* the consent-form scraper reads the same bytes (an HTML page in production) */
        char csrf[64], sid[64];
        if (yahoo_consent_form(json, size, csrf, sid, sizeof(csrf)) &&
            (csrf[0] == '\0' || sid[0] == '\0' || strchr(csrf, '"') || strchr(sid, '<')))
            abort();
    }
    free(json);
    return 0;
}
