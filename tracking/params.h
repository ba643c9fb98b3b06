#ifndef TRACKING_PARAMS_H
#define TRACKING_PARAMS_H

/* A run's params are flat dotted keys ("momentum.sma_crossover.fast": 7, "fees.rate": 0.001),
 * as MLflow keeps them. These turn them back into the nested JSON a strategy config or a
 * backtest job takes (the model registry, re-runs, the report). Pure; any thread. */

#include <jansson.h>

#include <stdbool.h>

/* The key belongs to a strategy family: "momentum.", "mean_reversion." or "regime_aware.". */
bool run_param_is_strategy(const char *key);
/* Sets value (its reference is added) at the dotted key under obj, creating the objects on
 * the way: "a.b.c" -> obj.a.b.c. Keys of 256 bytes or more are left out. */
void run_params_set_nested(json_t *obj, const char *dotted, json_t *value);
/* The strategy families' params nested back into a strategy config (a new object):
 * {"momentum": {"sma_crossover": {"fast": 7, "slow": 21}}}. */
json_t *run_params_strategy_config(const json_t *params);

#endif
