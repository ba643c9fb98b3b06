/* Synthetic daily bars (see synthetic.h). Pure; any thread. */
#include "feeds/synthetic.h"
#include "common/date.h"

#include <math.h>
#include <string.h>

#define MAX_DAY 83333               /* 2198-02-..: keeps the walk bounded */

struct rng {
    uint64_t s[4];
};

static uint64_t
splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t
next64(struct rng *r)
{
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

static double
uniform(struct rng *r)              /* (0, 1) */
{
    return ((double)(next64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double
normal(struct rng *r)               /* Box-Muller, one value per call */
{
    double u = uniform(r), v = uniform(r);

    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static double
cents(double x)
{
    double c = round(x * 100.0) / 100.0;

    return c < 0.01 ? 0.01 : c;
}

enum qd_code
synthetic_bars(const char *symbol, int32_t start_day, int32_t end_day, struct bar_series *out,
               struct qd_err *err)
{
    uint64_t h = 0xcbf29ce484222325ULL, seed;
    struct rng r;
    double drift, vol, price, stress_mult;
    bool stressed = false;

    if (end_day < start_day)
        return QD_OK;
    if (start_day < 0 || end_day > MAX_DAY)
        return qd_err_set(err, QD_EINVAL, "synthetic data covers 1970-01-01 to 2198");
    for (const char *p = symbol; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;      /* FNV-1a */
    seed = h;
    for (int i = 0; i < 4; i++)
        r.s[i] = splitmix(&seed);
    drift = 0.06 + 0.08 * uniform(&r);                     /* 6-14 % a year */
    vol = 0.15 + 0.25 * uniform(&r);                       /* 15-40 % a year */
    stress_mult = 1.8 + 0.7 * uniform(&r);                 /* stressed vol is 1.8-2.5x */
    price = 10.0 * exp(log(50.0) * uniform(&r));           /* start 10-500, log-uniform */

    for (int32_t day = 0; day <= end_day; day++) {
        unsigned wd = qd_weekday(day);
        double sigma, ret, open, close, high, low, gap, z, range;
        int64_t volume;

        if (wd == 0 || wd == 6)
            continue;
        /* regime: calm -> stressed with p = 1/250 a day, back with p = 1/40 */
        if (stressed ? uniform(&r) < 1.0 / 40 : uniform(&r) < 1.0 / 250)
            stressed = !stressed;
        sigma = vol * (stressed ? stress_mult : 1.0) / sqrt(252.0);
        z = normal(&r);
        ret = (drift - 0.5 * vol * vol) / 252.0 + sigma * z;
        if (uniform(&r) < 3.0 / 252)                       /* jumps, ~3 a year */
            ret += -0.02 + 0.05 * normal(&r);
        gap = 0.25 * sigma * normal(&r);
        open = price * exp(gap);
        close = price * exp(ret);
        range = fabs(sigma * (0.6 + 0.4 * fabs(normal(&r))));
        high = fmax(open, close) * exp(range * uniform(&r));
        low = fmin(open, close) * exp(-range * uniform(&r));
        volume = (int64_t)(1e6 * (0.5 + uniform(&r)) * (1.0 + 20.0 * fabs(ret)));
        /* prices keep a floor so the path never reaches 0 */
        if (close < 0.5)
            close = 0.5;
        price = close;
        if (day >= start_day) {
            double o = cents(open), c = cents(close), hi = cents(high), lo = cents(low);
            enum qd_code rc;
            hi = fmax(hi, fmax(o, c));
            lo = fmin(lo, fmin(o, c));
            rc = bar_series_push(out, day, o, hi, lo, c, c, volume > 0 ? volume : 1);
            if (rc != QD_OK)
                return qd_err_set(err, rc, "could not store synthetic bars");
        }
    }
    return QD_OK;
}
