/* GET /v1/strategies: the built-in strategies and their parameters, from the table the
 * equity_backtest job validates against (docs/engine.md). Loop thread; no database. */
#include "api/api_int.h"
#include "api/handlers.h"

#include <math.h>

struct param_doc {
    const char *name, *type;
    double      def, min, max;
};

static const struct {
    const char             *path, *summary;
    const struct param_doc *params;
    size_t                  nparams;
} strategies[] = {
#define P(...) (const struct param_doc[]){__VA_ARGS__}
    {"momentum.sma_crossover",
     "long after SMA(fast) crosses above SMA(slow), flat (short with long_short) after it crosses "
     "below; exact ties are not crosses",
     P({"fast", "integer", NAN, 1, 5000}, {"slow", "integer", NAN, 2, 5000}), 2},
    {"momentum.rsi", "long below oversold; flat (short with long_short) above overbought",
     P({"period", "integer", 14, 2, 5000}, {"overbought", "number", 70, 0, 100},
       {"oversold", "number", 30, 0, 100}),
     3},
    {"mean_reversion.bollinger_bands",
     "long below the lower band until above the middle band (long_short: short above the upper "
     "band until below the middle)",
     P({"period", "integer", 20, 2, 5000}, {"std", "number", 2, 0.1, 10}), 2},
    {"regime_aware.trend_filter",
     "a gate (true or {window}): longs only above SMA(window), shorts only below it",
     P({"window", "integer", 200, 2, 5000}), 1},
    {"regime_aware.risk_regime_filter",
     "a gate: flat while the risk regime level 0-3 (docs/features.md) is above max_level",
     P({"max_level", "integer", 2, 0, 3}), 1},
#undef P
};

void
api_strategies_get(struct api_req *r)
{
    json_t *list = json_array();

    for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++) {
        json_t *params = json_array();
        for (size_t k = 0; k < strategies[i].nparams; k++) {
            const struct param_doc *d = &strategies[i].params[k];
            json_t *o = json_pack("{s:s, s:s, s:f, s:f, s:b}", "name", d->name, "type", d->type,
                                  "minimum", d->min, "maximum", d->max, "grid", 1);
            json_object_set_new(o, "default", isnan(d->def) ? json_null() : json_real(d->def));
            json_array_append_new(params, o);
        }
        json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "name", strategies[i].path,
                                              "summary", strategies[i].summary, "params", params));
    }
    api_reply_json(r, 200,
                   json_pack("{s:o, s:s, s:[ss], s:s}", "strategies", list, "combination",
                             "several rules in one config: a side is taken where every rule is on "
                             "that side (AND); the trend filter gates it",
                             "directions", "long_only", "long_short", "grids",
                             "any numeric parameter may be a number, a list, or "
                             "{start, stop, step} (stop inclusive)"));
}
