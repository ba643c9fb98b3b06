/* Technical indicators (see indicators.h). Pure; any thread. */
#include "features/indicators.h"

#include <math.h>

static void
fill_nan(double *out, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        out[i] = NAN;
}

/* Rolling sums are recomputed from scratch every `resync` steps so that rounding does not
 * drift over long series. */
#define RESYNC 1024

void
feat_sma(const double *x, size_t n, unsigned w, double *out)
{
    double sum = 0;

    if (w == 0 || n < w) {
        fill_nan(out, 0, n);
        return;
    }
    fill_nan(out, 0, w - 1);
    for (size_t i = 0; i < n; i++) {
        if (i >= w && (i - w + 1) % RESYNC != 0) {
            sum += x[i] - x[i - w];
        } else if (i + 1 >= w) {
            sum = 0;
            for (size_t k = i + 1 - w; k <= i; k++)
                sum += x[k];
        }
        if (i + 1 >= w)
            out[i] = sum / w;
    }
}

void
feat_ema(const double *x, size_t n, unsigned w, double *out)
{
    double alpha = 2.0 / (w + 1.0), sum = 0, e;

    if (w == 0 || n < w) {
        fill_nan(out, 0, n);
        return;
    }
    fill_nan(out, 0, w - 1);
    for (size_t i = 0; i < w; i++)
        sum += x[i];
    e = sum / w;
    out[w - 1] = e;
    for (size_t i = w; i < n; i++) {
        e = alpha * x[i] + (1 - alpha) * e;
        out[i] = e;
    }
}

void
feat_wma(const double *x, size_t n, unsigned w, double *out)
{
    double denom = (double)w * (w + 1) / 2.0;

    if (w == 0 || n < w) {
        fill_nan(out, 0, n);
        return;
    }
    fill_nan(out, 0, w - 1);
    for (size_t i = w - 1; i < n; i++) {
        double s = 0;
        for (unsigned k = 0; k < w; k++)
            s += (double)(k + 1) * x[i + 1 - w + k];
        out[i] = s / denom;
    }
}

static double
rsi_value(double gain, double loss)
{
    if (loss == 0)
        return gain == 0 ? 50.0 : 100.0;
    return 100.0 - 100.0 / (1.0 + gain / loss);
}

void
feat_rsi(const double *x, size_t n, unsigned w, double *out)
{
    double gain = 0, loss = 0;

    if (w == 0 || n <= w) {
        fill_nan(out, 0, n);
        return;
    }
    fill_nan(out, 0, w);
    for (size_t i = 1; i <= w; i++) {
        double d = x[i] - x[i - 1];
        gain += d > 0 ? d : 0;
        loss += d < 0 ? -d : 0;
    }
    gain /= w;
    loss /= w;
    out[w] = rsi_value(gain, loss);
    for (size_t i = w + 1; i < n; i++) {
        double d = x[i] - x[i - 1];
        gain = (gain * (w - 1) + (d > 0 ? d : 0)) / w;
        loss = (loss * (w - 1) + (d < 0 ? -d : 0)) / w;
        out[i] = rsi_value(gain, loss);
    }
}

void
feat_macd(const double *x, size_t n, unsigned fast, unsigned slow, unsigned signal_w,
          double *line, double *signal, double *hist, double *scratch)
{
    size_t first = slow > fast ? slow - 1 : fast - 1;

    feat_ema(x, n, fast, scratch);
    feat_ema(x, n, slow, line);
    for (size_t i = 0; i < n; i++)
        line[i] = scratch[i] - line[i];         /* NaN until both are defined */
    fill_nan(signal, 0, n);
    if (n > first)
        feat_ema(line + first, n - first, signal_w, signal + first);
    for (size_t i = 0; i < n; i++)
        hist[i] = line[i] - signal[i];
}

/* Mean and population std of x[i-w+1..i], computed directly (two passes: exact enough and
 * free of the cancellation of running sums of squares). */
static void
window_stats(const double *x, size_t i, unsigned w, double *mean, double *sd)
{
    double m = 0, v = 0;

    for (size_t k = i + 1 - w; k <= i; k++)
        m += x[k];
    m /= w;
    for (size_t k = i + 1 - w; k <= i; k++)
        v += (x[k] - m) * (x[k] - m);
    *mean = m;
    *sd = sqrt(v / w);
}

void
feat_bollinger(const double *x, size_t n, unsigned w, double k, double *upper, double *middle,
               double *lower)
{
    fill_nan(upper, 0, n);
    fill_nan(middle, 0, n);
    fill_nan(lower, 0, n);
    if (w == 0 || n < w)
        return;
    for (size_t i = w - 1; i < n; i++) {
        double m, sd;
        window_stats(x, i, w, &m, &sd);
        middle[i] = m;
        upper[i] = m + k * sd;
        lower[i] = m - k * sd;
    }
}

static double
true_range(const double *h, const double *l, const double *c, size_t i)
{
    double a = h[i] - l[i], b = fabs(h[i] - c[i - 1]), d = fabs(l[i] - c[i - 1]);

    return fmax(a, fmax(b, d));
}

void
feat_atr(const double *high, const double *low, const double *close, size_t n, unsigned w,
         double *out)
{
    double atr = 0;

    if (w == 0 || n <= w) {
        fill_nan(out, 0, n);
        return;
    }
    fill_nan(out, 0, w);
    for (size_t i = 1; i <= w; i++)
        atr += true_range(high, low, close, i);
    atr /= w;
    out[w] = atr;
    for (size_t i = w + 1; i < n; i++) {
        atr = (atr * (w - 1) + true_range(high, low, close, i)) / w;
        out[i] = atr;
    }
}

void
feat_realized_vol(const double *close, size_t n, unsigned w, double *out)
{
    fill_nan(out, 0, n);
    if (w < 2 || n <= w)
        return;
    for (size_t i = w; i < n; i++) {
        double m = 0, v = 0;
        for (size_t k = i + 1 - w; k <= i; k++)
            m += log(close[k] / close[k - 1]);
        m /= w;
        for (size_t k = i + 1 - w; k <= i; k++) {
            double r = log(close[k] / close[k - 1]) - m;
            v += r * r;
        }
        out[i] = sqrt(v / (w - 1)) * sqrt(252.0);
    }
}

void
feat_zscore(const double *x, size_t n, unsigned w, double *out)
{
    fill_nan(out, 0, n);
    if (w == 0 || n < w)
        return;
    for (size_t i = w - 1; i < n; i++) {
        double m, sd;
        window_stats(x, i, w, &m, &sd);
        out[i] = sd > 0 ? (x[i] - m) / sd : NAN;
    }
}

static void
rolling_extreme(const double *x, size_t n, unsigned w, double *out, int sign)
{
    fill_nan(out, 0, n);
    if (w == 0 || n < w)
        return;
    for (size_t i = w - 1; i < n; i++) {
        double e = x[i + 1 - w];
        for (size_t k = i + 2 - w; k <= i; k++)
            if (sign * (x[k] - e) > 0 || isnan(x[k]))
                e = x[k];
        out[i] = e;
    }
}

void
feat_rolling_min(const double *x, size_t n, unsigned w, double *out)
{
    rolling_extreme(x, n, w, out, -1);
}

void
feat_rolling_max(const double *x, size_t n, unsigned w, double *out)
{
    rolling_extreme(x, n, w, out, 1);
}

void
feat_roc(const double *x, size_t n, unsigned w, double *out)
{
    fill_nan(out, 0, n < w ? n : w);
    for (size_t i = w; i < n; i++)
        out[i] = 100.0 * (x[i] / x[i - w] - 1.0);
}
