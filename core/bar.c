/* Columnar bar storage. Any thread (one owner per series). */
#include "core/bar.h"

#include <stdlib.h>
#include <string.h>

void
bar_series_init(struct bar_series *s, size_t max_rows)
{
    memset(s, 0, sizeof(*s));
    s->max_rows = max_rows;
}

static enum qd_code
grow(struct bar_series *s)
{
    size_t cap = s->cap ? s->cap * 2 : 256;
    void *p[7];
    size_t sz[7] = {sizeof(int32_t), sizeof(double), sizeof(double), sizeof(double),
                    sizeof(double), sizeof(double), sizeof(int64_t)};
    void **cols[7] = {(void **)&s->day,   (void **)&s->open,      (void **)&s->high,
                      (void **)&s->low,   (void **)&s->close,     (void **)&s->adj_close,
                      (void **)&s->volume};

    if (s->max_rows && cap > s->max_rows)
        cap = s->max_rows;
    for (int i = 0; i < 7; i++) {
        p[i] = realloc(*cols[i], cap * sz[i]);
        if (p[i] == NULL)
            return QD_ENOMEM;       /* columns already grown stay valid: cap is unchanged */
        *cols[i] = p[i];
    }
    s->cap = cap;
    return QD_OK;
}

enum qd_code
bar_series_push(struct bar_series *s, int32_t day, double open, double high, double low,
                double close, double adj_close, int64_t volume)
{
    if (s->n == s->cap) {
        if (s->max_rows && s->n >= s->max_rows)
            return QD_ETOOBIG;
        enum qd_code rc = grow(s);
        if (rc != QD_OK)
            return rc;
    }
    s->day[s->n] = day;
    s->open[s->n] = open;
    s->high[s->n] = high;
    s->low[s->n] = low;
    s->close[s->n] = close;
    s->adj_close[s->n] = adj_close;
    s->volume[s->n] = volume;
    s->n++;
    return QD_OK;
}

void
bar_series_clear(struct bar_series *s)
{
    s->n = 0;
}

void
bar_series_release(struct bar_series *s)
{
    free(s->day);
    free(s->open);
    free(s->high);
    free(s->low);
    free(s->close);
    free(s->adj_close);
    free(s->volume);
    bar_series_init(s, s->max_rows);
}
