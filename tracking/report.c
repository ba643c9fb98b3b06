/* The experiment report as one self-contained HTML page (see report.h). */
#include "tracking/report.h"
#include "common/date.h"
#include "tracking/params.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CHART_W   880.0
#define CHART_H   260.0
#define PAD_L     64.0
#define PAD_B     24.0
#define MAX_POINTS 600                      /* per polyline: the page stays small */

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                      "#17becf", "#8c564b", "#e377c2"};

/* Text for HTML, escaped. */
static void
esc(struct qd_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            qd_buf_puts(b, "&lt;");
            break;
        case '>':
            qd_buf_puts(b, "&gt;");
            break;
        case '&':
            qd_buf_puts(b, "&amp;");
            break;
        case '"':
            qd_buf_puts(b, "&quot;");
            break;
        default:
            qd_buf_append(b, s, 1);
        }
    }
}

/* v with prec digits: fixed (with suffix) or, for prec < 0, %g with -prec significant
 * digits; a dash when v is not finite. */
static void
num(struct qd_buf *b, double v, int prec, const char *suffix)
{
    if (!isfinite(v))
        qd_buf_puts(b, "—");
    else if (prec < 0)
        qd_buf_printf(b, "%.*g%s", -prec, v, suffix);
    else
        qd_buf_printf(b, "%.*f%s", prec, v, suffix);
}

static double
jnum(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A met / unmet mark; unknown when v is not finite. */
static void
mark(struct qd_buf *b, double v, bool met)
{
    if (!isfinite(v))
        qd_buf_puts(b, "<td class=\"na\">n/a</td>");
    else
        qd_buf_printf(b, "<td class=\"%s\">%s</td>", met ? "met" : "unmet",
                      met ? "met" : "unmet");
}

static const char style[] =
    "<style>body{font:14px/1.4 system-ui,-apple-system,\"Segoe UI\",sans-serif;margin:24px;"
    "color:#222}h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:"
    "collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f2f2f2}td.l,th.l{text-align:left}.met{background:#d8f0d8}.unmet{background:"
    "#f6d6d6}.na{color:#888}.small{color:#666;font-size:12px}svg{background:#fff;border:1px "
    "solid #ddd}.hm td{padding:0;width:38px;height:20px;font-size:10px;text-align:center;"
    "border:1px solid #fff}code{font-size:12px;word-break:break-all}td.p{max-width:320px}"
    "</style>";

/* The params of the strategy families ("momentum.…", "mean_reversion.…", "regime_aware.…")
 * as "key=value, …": the rest (fill, fees, dates) is the same for every run of a sweep. */
static char *
strategy_params(const json_t *params)
{
    struct qd_buf b = {0};
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)params, k, v)
    {
        char *val;
        if (!run_param_is_strategy(k) ||
            (val = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
            continue;
        qd_buf_printf(&b, "%s%s=%s", b.len ? ", " : "", k, val);
        free(val);
    }
    qd_buf_puts(&b, "");
    return qd_buf_detach(&b, NULL);
}

static void
summary(const struct report_input *in, struct qd_buf *b)
{
    const json_t *list = json_object_get(in->compare, "strategies"), *s;
    size_t i;

    qd_buf_puts(b, "<h2>Strategies</h2><table><tr><th class=\"l\">strategy</th><th>runs</th>"
                   "<th>best</th><th>median</th><th>mean</th><th>best run</th><th>CAGR</th>"
                   "<th>Sharpe</th><th>max drawdown</th><th>return &ge; 10%</th>"
                   "<th>Sharpe &gt; 1.5</th><th>drawdown &lt; 15%</th><th class=\"l\">best "
                   "params</th></tr>");
    json_array_foreach(list, i, s)
    {
        const char *name = json_string_value(json_object_get(s, "strategy"));
        const json_t *m = json_object_get(in->best_metrics, name ? name : "");
        double cagr = jnum(m, "cagr"), sr = jnum(m, "sharpe_ratio"), dd = jnum(m, "max_drawdown");
        char *params = strategy_params(json_object_get(s, "best_params"));
        qd_buf_puts(b, "<tr><td class=\"l\">");
        esc(b, name);
        qd_buf_printf(b, "</td><td>%lld</td><td>",
                      (long long)json_integer_value(json_object_get(s, "runs")));
        num(b, jnum(s, "best"), -4, "");
        qd_buf_puts(b, "</td><td>");
        num(b, jnum(s, "median"), -4, "");
        qd_buf_puts(b, "</td><td>");
        num(b, jnum(s, "mean"), -4, "");
        qd_buf_printf(b, "</td><td>%lld</td><td>",
                      (long long)json_integer_value(json_object_get(s, "best_run_id")));
        num(b, cagr * 100, 2, "%");
        qd_buf_puts(b, "</td><td>");
        num(b, sr, 3, "");
        qd_buf_puts(b, "</td><td>");
        num(b, dd * 100, 2, "%");
        qd_buf_puts(b, "</td>");
        mark(b, cagr, cagr >= REPORT_TARGET_CAGR);
        mark(b, sr, sr > REPORT_TARGET_SHARPE);
        mark(b, dd, dd < REPORT_TARGET_MAXDD);
        qd_buf_puts(b, "<td class=\"l p\"><code>");
        esc(b, params ? params : "");
        qd_buf_puts(b, "</code></td></tr>");
        free(params);
    }
    qd_buf_puts(b, "</table><p class=\"small\">Targets (the seed's): annual return (CAGR) "
                   "&ge; 10%, Sharpe ratio &gt; 1.5, maximum drawdown &lt; 15%, judged on each "
                   "strategy's best run.</p>");
}

/* Maps [lo, hi] to [0, span]; a flat range maps to the middle. */
static double
scale(double v, double lo, double hi, double span)
{
    return hi > lo ? (v - lo) / (hi - lo) * span : span / 2;
}

/* Axes with a few labels: y from lo to hi (fmt), x from the first to the last day. */
static void
axes(struct qd_buf *b, double lo, double hi, int prec, const char *suffix, int32_t d0,
     int32_t d1)
{
    char a[16], z[16];

    for (int k = 0; k <= 4; k++) {
        double y = CHART_H - PAD_B - (CHART_H - PAD_B - 10) * k / 4.0;
        qd_buf_printf(b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                         "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">",
                      PAD_L, y, CHART_W - 8, y, PAD_L - 4, y + 4);
        num(b, lo + (hi - lo) * k / 4.0, prec, suffix);
        qd_buf_puts(b, "</text>");
    }
    qd_date_format(d0, a);
    qd_date_format(d1, z);
    qd_buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">%s</text><text x=\"%.0f\" "
                     "y=\"%.0f\" font-size=\"11\" text-anchor=\"end\">%s</text>",
                  PAD_L, CHART_H - 6, a, CHART_W - 8, CHART_H - 6, z);
}

static void
polyline(struct qd_buf *b, const int32_t *days, const double *v, size_t n, int32_t d0,
         int32_t d1, double lo, double hi, const char *color)
{
    size_t step = n > MAX_POINTS ? (n + MAX_POINTS - 1) / MAX_POINTS : 1;

    qd_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.4\" points=\"",
                  color);
    for (size_t i = 0; i < n; i += step) {
        size_t k = i + step >= n ? n - 1 : i;          /* always end on the last point */
        double x = PAD_L + scale(days[k], d0, d1, CHART_W - PAD_L - 8);
        double y = CHART_H - PAD_B - scale(v[k], lo, hi, CHART_H - PAD_B - 10);
        if (isfinite(y))
            qd_buf_printf(b, "%.1f,%.1f ", x, y);
        if (k == n - 1)
            break;
    }
    qd_buf_puts(b, "\"/>");
}

static void
equity_chart(const struct report_input *in, struct qd_buf *b)
{
    int32_t d0 = INT32_MAX, d1 = INT32_MIN;
    double lo = INFINITY, hi = -INFINITY;

    qd_buf_puts(b, "<h2>Equity of the top runs</h2>");
    if (in->ncurves == 0) {
        qd_buf_puts(b, "<p class=\"small\">No equity curve was kept.</p>");
        return;
    }
    for (size_t c = 0; c < in->ncurves; c++)
        for (size_t i = 0; i < in->curves[c].n; i++) {
            double v = in->curves[c].equity[i];
            d0 = in->curves[c].days[i] < d0 ? in->curves[c].days[i] : d0;
            d1 = in->curves[c].days[i] > d1 ? in->curves[c].days[i] : d1;
            if (isfinite(v)) {
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
    qd_buf_printf(b, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                     "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">",
                  CHART_W, CHART_H, CHART_W, CHART_H);
    axes(b, lo, hi, 0, "", d0, d1);
    for (size_t c = 0; c < in->ncurves; c++)
        polyline(b, in->curves[c].days, in->curves[c].equity, in->curves[c].n, d0, d1, lo, hi,
                 palette[c % (sizeof(palette) / sizeof(palette[0]))]);
    qd_buf_puts(b, "</svg><p class=\"small\">");
    for (size_t c = 0; c < in->ncurves; c++) {
        qd_buf_printf(b, "<span style=\"color:%s\">&#9632;</span> run %lld (",
                      palette[c % (sizeof(palette) / sizeof(palette[0]))],
                      (long long)in->curves[c].run_id);
        esc(b, in->curves[c].strategy);
        qd_buf_puts(b, ") &nbsp; ");
    }
    qd_buf_puts(b, "</p>");
}

static void
drawdown_chart(const struct report_curve *c, struct qd_buf *b)
{
    double *dd = malloc((c->n ? c->n : 1) * sizeof(*dd)), peak = -INFINITY, worst = 0;

    qd_buf_printf(b, "<h2>Drawdown of the best run (%lld)</h2>", (long long)c->run_id);
    if (dd == NULL || c->n < 2) {
        free(dd);
        qd_buf_puts(b, "<p class=\"small\">Not enough data.</p>");
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        peak = c->equity[i] > peak ? c->equity[i] : peak;
        dd[i] = peak > 0 ? c->equity[i] / peak - 1 : 0;
        worst = dd[i] < worst ? dd[i] : worst;
    }
    qd_buf_printf(b, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                     "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">",
                  CHART_W, CHART_H, CHART_W, CHART_H);
    axes(b, worst * 100, 0, 1, "%", c->days[0], c->days[c->n - 1]);
    for (size_t i = 0; i < c->n; i++)
        dd[i] *= 100;
    polyline(b, c->days, dd, c->n, c->days[0], c->days[c->n - 1], worst * 100, 0, "#d62728");
    qd_buf_puts(b, "</svg>");
    free(dd);
}

/* A diverging colour for v in [-m, m]: red below 0, green above. */
static void
cell_color(struct qd_buf *b, double v, double m)
{
    double t = m > 0 ? fmin(1, fabs(v) / m) : 0;
    int c = (int)lround(255 - 150 * t);

    if (!isfinite(v))
        qd_buf_puts(b, "#eee");
    else if (v >= 0)
        qd_buf_printf(b, "rgb(%d,255,%d)", c, c);
    else
        qd_buf_printf(b, "rgb(255,%d,%d)", c, c);
}

static void
monthly_heatmap(const struct report_curve *c, struct qd_buf *b)
{
    int y0, y1, y;
    unsigned m, d;
    double ret[200][12], m_abs = 0;
    bool has[200][12];

    qd_buf_puts(b, "<h2>Monthly returns of the best run</h2>");
    if (c->n < 2)
        return;
    qd_civil_from_days(c->days[0], &y0, &m, &d);
    qd_civil_from_days(c->days[c->n - 1], &y1, &m, &d);
    if (y1 - y0 >= 200)
        y0 = y1 - 199;
    memset(has, 0, sizeof(has));
    /* a month's return: its last equity over the previous month's last (or the first value) */
    {
        double prev = c->equity[0];
        for (size_t i = 0; i < c->n; i++) {
            unsigned mi;
            bool last;
            int yi;
            qd_civil_from_days(c->days[i], &yi, &mi, &d);
            if (i + 1 < c->n) {
                int yn;
                unsigned mn, dn;
                qd_civil_from_days(c->days[i + 1], &yn, &mn, &dn);
                last = yn != yi || mn != mi;
            } else {
                last = true;
            }
            if (!last)
                continue;
            if (yi >= y0 && yi <= y1 && prev > 0) {
                ret[yi - y0][mi - 1] = c->equity[i] / prev - 1;
                has[yi - y0][mi - 1] = true;
                m_abs = fmax(m_abs, fabs(ret[yi - y0][mi - 1]));
            }
            prev = c->equity[i];
        }
    }
    qd_buf_puts(b, "<table class=\"hm\"><tr><th></th>");
    for (int k = 1; k <= 12; k++)
        qd_buf_printf(b, "<th>%02d</th>", k);
    qd_buf_puts(b, "</tr>");
    for (y = y0; y <= y1; y++) {
        qd_buf_printf(b, "<tr><th>%d</th>", y);
        for (int k = 0; k < 12; k++) {
            double v = has[y - y0][k] ? ret[y - y0][k] : NAN;
            qd_buf_puts(b, "<td style=\"background:");
            cell_color(b, v, m_abs);
            qd_buf_puts(b, "\">");
            num(b, v * 100, 1, "");
            qd_buf_puts(b, "</td>");
        }
        qd_buf_puts(b, "</tr>");
    }
    qd_buf_puts(b, "</table><p class=\"small\">Percent; green gains, red losses.</p>");
}

/* The distinct values of a numeric param among a strategy's runs (up to max). */
static size_t
distinct(double *vals, size_t n, double v, size_t max)
{
    for (size_t i = 0; i < n; i++)
        if (vals[i] == v)
            return n;
    if (n < max)
        vals[n++] = v;
    return n;
}

static int
cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static size_t
index_of(const double *v, size_t n, double x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return i;
    return n;
}

#define HM_MAX 120                          /* distinct values per axis */

/* For a strategy swept over exactly two numeric params: the metric over that grid (each cell
 * the best run of that point). */
static void
param_heatmap(const struct report_input *in, const char *strategy, struct qd_buf *b)
{
    json_t **parsed = calloc(in->runs->n ? in->runs->n : 1, sizeof(*parsed));
    int dir = compare_direction(in->metric);
    const char *keys[2] = {NULL, NULL};
    double xs[HM_MAX], ys[HM_MAX], *grid = NULL, lo = INFINITY, hi = -INFINITY;
    size_t nx = 0, ny = 0, nvary = 0;
    json_t *first = NULL;
    const char *k;
    json_t *v;

    if (parsed == NULL)
        return;
    for (size_t i = 0; i < in->runs->n; i++)
        if (strcmp(in->runs->strategy[i], strategy) == 0 &&
            (parsed[i] = json_loads(in->runs->params[i], 0, NULL)) != NULL && first == NULL)
            first = parsed[i];
    /* the numeric params whose value differs between runs */
    json_object_foreach(first, k, v)
    {
        bool varies = false;
        if (!json_is_number(v))
            continue;
        for (size_t i = 0; i < in->runs->n && !varies; i++)
            if (parsed[i] != NULL && !json_equal(json_object_get(parsed[i], k), v))
                varies = true;
        if (varies && nvary < 2)
            keys[nvary] = k;
        nvary += varies;
    }
    if (nvary == 2) {
        for (size_t i = 0; i < in->runs->n; i++)
            if (parsed[i] != NULL) {
                nx = distinct(xs, nx, json_number_value(json_object_get(parsed[i], keys[0])),
                              HM_MAX);
                ny = distinct(ys, ny, json_number_value(json_object_get(parsed[i], keys[1])),
                              HM_MAX);
            }
        qsort(xs, nx, sizeof(double), cmp_dbl);
        qsort(ys, ny, sizeof(double), cmp_dbl);
        grid = malloc(nx * ny * sizeof(*grid));
    }
    if (grid != NULL) {
        double m;
        for (size_t i = 0; i < nx * ny; i++)
            grid[i] = NAN;
        for (size_t i = 0; i < in->runs->n; i++) {
            size_t xi, yi;
            double val = in->runs->value[i];
            if (parsed[i] == NULL || !isfinite(val))
                continue;
            xi = index_of(xs, nx, json_number_value(json_object_get(parsed[i], keys[0])));
            yi = index_of(ys, ny, json_number_value(json_object_get(parsed[i], keys[1])));
            /* each cell keeps the point's best run, in the metric's direction */
            if (xi < nx && yi < ny &&
                (isnan(grid[yi * nx + xi]) ||
                 (dir > 0 ? val > grid[yi * nx + xi] : val < grid[yi * nx + xi])))
                grid[yi * nx + xi] = val;
            lo = fmin(lo, val);
            hi = fmax(hi, val);
        }
        m = fmax(fabs(lo), fabs(hi));
        qd_buf_puts(b, "<h3>");
        esc(b, strategy);
        qd_buf_puts(b, ": ");
        esc(b, in->metric);
        qd_buf_puts(b, " by ");
        esc(b, keys[0]);
        qd_buf_puts(b, " (across) and ");
        esc(b, keys[1]);
        qd_buf_puts(b, " (down)</h3>");
        {
            double cw = fmax(2, fmin(24, 800.0 / (double)nx));
            double ch = fmax(2, fmin(16, 600.0 / (double)ny));
            qd_buf_printf(b, "<svg width=\"%.0f\" height=\"%.0f\" xmlns=\"http://www.w3.org/"
                             "2000/svg\" role=\"img\">",
                          60 + cw * (double)nx, 20 + ch * (double)ny);
            for (size_t yi = 0; yi < ny; yi++) {
                if (yi % (size_t)fmax(1, 14 / ch) == 0)
                    qd_buf_printf(b, "<text x=\"56\" y=\"%.1f\" font-size=\"10\" "
                                     "text-anchor=\"end\">%g</text>",
                                  20 + ch * (double)yi + ch - 1, ys[yi]);
                for (size_t xi = 0; xi < nx; xi++) {
                    double val = grid[yi * nx + xi];
                    if (!isfinite(val))
                        continue;
                    qd_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                     "height=\"%.1f\" fill=\"",
                                  60 + cw * (double)xi, 20 + ch * (double)yi, cw, ch);
                    cell_color(b, val, m);
                    qd_buf_puts(b, "\"/>");
                }
            }
            for (size_t xi = 0; xi < nx; xi += (size_t)fmax(1, 24 / cw))
                qd_buf_printf(b, "<text x=\"%.1f\" y=\"14\" font-size=\"10\">%g</text>",
                              60 + cw * (double)xi, xs[xi]);
            qd_buf_puts(b, "</svg><p class=\"small\">");
            qd_buf_puts(b, "from ");
            num(b, lo, -4, "");
            qd_buf_puts(b, " to ");
            num(b, hi, -4, "");
            qd_buf_puts(b, "; red below 0, green above, deeper further from 0; blank: no "
                           "run.</p>");
        }
    }
    free(grid);
    for (size_t i = 0; i < in->runs->n; i++)
        json_decref(parsed[i]);
    free(parsed);
}

static void
significance(const struct report_input *in, struct qd_buf *b)
{
    const json_t *list = json_object_get(in->compare, "strategies"), *s;
    const json_t *defl = json_object_get(in->compare, "deflation");
    size_t i;

    qd_buf_puts(b, "<h2>Significance</h2><table><tr><th class=\"l\">strategy</th><th>best "
                   "run</th><th>Sharpe</th><th>95% interval</th><th>PSR</th><th>DSR</th>"
                   "<th>DSR passes</th><th>vs best: JKM p</th><th>paired t p</th></tr>");
    json_array_foreach(list, i, s)
    {
        const json_t *ci = json_object_get(s, "sharpe_ci"), *vs = json_object_get(s, "vs_best");
        qd_buf_puts(b, "<tr><td class=\"l\">");
        esc(b, json_string_value(json_object_get(s, "strategy")));
        qd_buf_printf(b, "</td><td>%lld</td><td>",
                      (long long)json_integer_value(json_object_get(s, "best_run_id")));
        num(b, jnum(s, "sharpe_ratio"), 3, "");
        qd_buf_puts(b, "</td><td>");
        num(b, jnum(ci, "lo"), 3, "");
        qd_buf_puts(b, " … ");
        num(b, jnum(ci, "hi"), 3, "");
        qd_buf_puts(b, "</td><td>");
        num(b, jnum(s, "psr"), 3, "");
        qd_buf_puts(b, "</td><td>");
        num(b, jnum(s, "dsr"), 3, "");
        qd_buf_puts(b, "</td>");
        if (json_is_boolean(json_object_get(s, "dsr_passes")))
            mark(b, 1, json_is_true(json_object_get(s, "dsr_passes")));
        else
            mark(b, NAN, false);
        qd_buf_puts(b, "<td>");
        num(b, jnum(vs, "jk_p"), -3, "");
        qd_buf_puts(b, "</td><td>");
        num(b, jnum(vs, "t_p"), -3, "");
        qd_buf_puts(b, "</td></tr>");
    }
    qd_buf_printf(b, "</table><p class=\"small\">Sharpe ratios annualised from daily returns of "
                     "each best run's kept curve; 95%% stationary-bootstrap interval; PSR "
                     "against 0; DSR charged for %lld trials (every run of the experiment), "
                     "threshold ",
                  (long long)json_integer_value(json_object_get(defl, "trials")));
    num(b, jnum(defl, "threshold"), 2, "");
    qd_buf_puts(b, "; p-values of the Jobson-Korkie-Memmel test and the paired t-test against "
                   "the overall best run. Definitions: docs/statistics.md.</p>");
}

enum qd_code
report_html(const struct report_input *in, struct qd_buf *out, struct qd_err *err)
{
    const json_t *list = json_object_get(in->compare, "strategies"), *s;
    size_t i;
    enum qd_code rc;

    qd_buf_puts(out, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>Experiment ");
    esc(out, in->runs->experiment);
    qd_buf_puts(out, "</title>");
    qd_buf_puts(out, style);
    qd_buf_puts(out, "</head><body><h1>Experiment ");
    esc(out, in->runs->experiment);
    qd_buf_printf(out, "</h1><p class=\"small\">%zu runs, ranked by <b>", in->runs->n);
    esc(out, in->metric);
    qd_buf_printf(out, "</b> (%s is better); generated %s by quantd.</p>",
                  compare_direction(in->metric) > 0 ? "higher" : "lower",
                  in->generated ? in->generated : "");
    summary(in, out);
    equity_chart(in, out);
    if (in->ncurves > 0) {
        drawdown_chart(&in->curves[0], out);
        monthly_heatmap(&in->curves[0], out);
    }
    qd_buf_puts(out, "<h2>Parameter sweeps</h2>");
    json_array_foreach(list, i, s)
        param_heatmap(in, json_string_value(json_object_get(s, "strategy")), out);
    significance(in, out);
    rc = qd_buf_puts(out, "</body></html>\n");
    /* an append that did not fit (the cap) leaves the page short: refuse it rather than serve
     * a page with holes; the last append fits only when none before it was refused, or when
     * the page ends well under the cap */
    if (rc == QD_OK && out->max != 0 && out->len + 65536 > out->max)
        rc = QD_ETOOBIG;
    if (rc != QD_OK)
        return qd_err_set(err, rc, rc == QD_ETOOBIG ? "the report is too large"
                                                     : "out of memory");
    return QD_OK;
}
