/*
 * bench/feeds: parser throughput of the data-source clients (issue 3 target: Yahoo chart
 * parse >= 100 MB/s of JSON). Builds Yahoo-shaped answers in memory (25 years of daily bars,
 * prices with binary noise as Yahoo sends them, some nulls, events) and parses them repeatedly.
 * Prints `bench feeds ...` lines. Run: make bench-feeds
 */
#define _GNU_SOURCE
#include "common/buf.h"
#include "feeds/fred.h"
#include "feeds/yahoo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A chart answer of n daily bars; every 50th bar null. */
static void
yahoo_doc(struct qd_buf *b, int n)
{
    const char *f[] = {"open", "high", "low", "close"};

    qd_buf_puts(b, "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"symbol\":\"BENCH\","
                   "\"exchangeName\":\"NMS\",\"instrumentType\":\"EQUITY\",\"gmtoffset\":-14400,"
                   "\"timezone\":\"EDT\",\"exchangeTimezoneName\":\"America/New_York\","
                   "\"priceHint\":2,\"dataGranularity\":\"1d\"},\"timestamp\":[");
    for (int i = 0; i < n; i++)
        qd_buf_printf(b, "%s%d", i ? "," : "", 946906200 + i * 86400);
    qd_buf_puts(b, "],\"events\":{\"dividends\":{\"1000000000\":{\"amount\":0.25,\"date\":"
                   "1000000000}}},\"indicators\":{\"quote\":[{");
    for (int k = 0; k < 4; k++) {
        qd_buf_printf(b, "%s\"%s\":[", k ? "," : "", f[k]);
        for (int i = 0; i < n; i++) {
            double v = (double)(float)(100 + 20 * sin(i / 50.0) + k * 0.37);
            if (i % 50 == 7)
                qd_buf_printf(b, "%snull", i ? "," : "");
            else
                qd_buf_printf(b, "%s%.17g", i ? "," : "", v);
        }
        qd_buf_puts(b, "]");
    }
    qd_buf_puts(b, ",\"volume\":[");
    for (int i = 0; i < n; i++)
        qd_buf_printf(b, "%s%d", i ? "," : "", 1000000 + i * 37);
    qd_buf_puts(b, "]}],\"adjclose\":[{\"adjclose\":[");
    for (int i = 0; i < n; i++)
        qd_buf_printf(b, "%s%.17g", i ? "," : "", (double)(float)(99 + 20 * sin(i / 50.0)));
    qd_buf_puts(b, "]}]}}],\"error\":null}}");
}

int
main(void)
{
    struct qd_buf doc = QD_BUF_INIT(0);
    struct bar_series s;
    struct yahoo_actions a = {0};
    struct yahoo_stats st;
    struct qd_err err;
    double best = 1e9, total = 0;
    int reps = 0;

    yahoo_doc(&doc, 6300);
    bar_series_init(&s, 0);
    while (total < 3.0 || reps < 20) {
        double t = now_s();
        bar_series_clear(&s);
        a.n = 0;
        if (yahoo_parse_chart(doc.data, doc.len, &s, &a, &st, &err) != QD_OK) {
            fprintf(stderr, "parse: %s\n", err.msg);
            return 1;
        }
        t = now_s() - t;
        best = t < best ? t : best;
        total += t;
        reps++;
    }
    printf("bench feeds yahoo_chart_parse bytes=%zu bars=%zu best_mb_s=%.1f mean_mb_s=%.1f "
           "target_mb_s>=100\n",
           doc.len, s.n, doc.len / best / 1e6, doc.len * reps / total / 1e6);
    bar_series_release(&s);
    yahoo_actions_release(&a);
    qd_buf_release(&doc);
    return 0;
}
