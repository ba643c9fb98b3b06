#ifndef FEEDS_CSV_BARS_H
#define FEEDS_CSV_BARS_H

/*
 * Incremental parser for Yahoo-style daily CSV (`Date,Open,High,Low,Close,Adj Close,Volume`),
 * fed in chunks of any size (a line may be split anywhere). Header names match case-
 * insensitively in any order; `Adj Close` is optional (then adj_close = close); unknown
 * columns are refused. CRLF or LF, an optional UTF-8 BOM, blank lines ignored, Yahoo's rows
 * of all "null" skipped (counted). Every error is QD_EINVAL (QD_ETOOBIG for a line over
 * 4096 bytes) with field "line N" (the header is line 1) and a message naming the column.
 * One parser per upload; one thread at a time.
 */

#include "common/err.h"
#include "core/bar.h"

#include <stdbool.h>
#include <stddef.h>

struct csv_bars;

/* Rows are appended to out (borrowed: it must outlive the parser). NULL when out of memory. */
struct csv_bars *csv_bars_create(struct bar_series *out);
/* Column mapping, before the first feed: the file's header name for one of our columns
 * ("date", "open", "high", "low", "close", "adj_close", "volume"); QD_EINVAL naming it. */
enum qd_code csv_bars_alias(struct csv_bars *p, const char *column, const char *header,
                            struct qd_err *err);
/* Skip columns the header has beyond ours instead of refusing them. */
void csv_bars_ignore_unknown(struct csv_bars *p, bool ignore);
enum qd_code csv_bars_feed(struct csv_bars *p, const char *data, size_t len, struct qd_err *err);
/* Ends the input (a last line without a newline is parsed); an error when there was no header
 * or no row. */
enum qd_code csv_bars_finish(struct csv_bars *p, struct qd_err *err);
size_t csv_bars_line(const struct csv_bars *p);
size_t csv_bars_skipped(const struct csv_bars *p);
void csv_bars_destroy(struct csv_bars *p);      /* NULL is a no-op */

#endif
