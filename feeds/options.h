#ifndef FEEDS_OPTIONS_H
#define FEEDS_OPTIONS_H

/*
 * Option quotes as the options providers' clients hand them to ingest_options (feeds/tradier.h,
 * feeds/polygon.h) and storage/options_db.h stores them in option_quotes. Greeks are the
 * provider's, in its units (Tradier/ORATS: vega per volatility point, theta per calendar day,
 * as DESIGN §7). Any thread.
 */

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct option_quote {
    char    contract[32];           /* OCC symbol without Polygon's "O:": ACME240719C00100000 */
    int32_t expiration;             /* days since 1970-01-01 */
    double  strike;
    char    right;                  /* 'C' or 'P' */
    double  bid, ask, last;         /* NaN: the provider sent null or nothing */
    int64_t volume, open_interest;  /* -1: absent */
    double  iv, delta, gamma, theta, vega, rho;     /* NaN: absent */
    int64_t quote_ms;               /* when the provider priced it (epoch ms); 0: unknown */
};

struct option_quotes {
    struct option_quote *q;
    size_t               n, cap;
};
/* Appends a copy of q. QD_ENOMEM. */
enum qd_code option_quotes_push(struct option_quotes *l, const struct option_quote *q,
                                struct qd_err *err);
void option_quotes_release(struct option_quotes *l);

/* An underlying symbol as the options clients accept it: 1-10 of A-Z, 0-9, '.', '-'. */
bool option_underlying_valid(const char *s);

/* Reads an OCC option symbol (ROOT YYMMDD C|P strike*1000 in 8 digits; root 1-6 of A-Z0-9)
 * into expiration, right and strike. False when it is not one. */
bool occ_parse(const char *sym, int32_t *expiration, char *right, double *strike);

#endif
