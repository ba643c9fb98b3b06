/* Flat dotted run params back into nested JSON (see params.h). */
#include "tracking/params.h"

#include <stdio.h>
#include <string.h>

bool
run_param_is_strategy(const char *key)
{
    static const char *const families[] = {"momentum.", "mean_reversion.", "regime_aware.",
                                           NULL};

    for (const char *const *f = families; *f; f++)
        if (strncmp(key, *f, strlen(*f)) == 0)
            return true;
    return false;
}

void
run_params_set_nested(json_t *obj, const char *dotted, json_t *value)
{
    char key[256], *save = NULL, *tok, *next;
    json_t *at = obj;

    if (strlen(dotted) >= sizeof(key))
        return;
    snprintf(key, sizeof(key), "%s", dotted);
    for (tok = strtok_r(key, ".", &save); tok; tok = next) {
        next = strtok_r(NULL, ".", &save);
        if (next == NULL) {
            json_object_set(at, tok, value);
        } else {
            json_t *child = json_object_get(at, tok);
            if (!json_is_object(child)) {
                child = json_object();
                json_object_set_new(at, tok, child);
            }
            at = child;
        }
    }
}

json_t *
run_params_strategy_config(const json_t *params)
{
    json_t *cfg = json_object(), *v;
    const char *k;

    json_object_foreach((json_t *)params, k, v)
    {
        if (run_param_is_strategy(k))
            run_params_set_nested(cfg, k, v);
    }
    return cfg;
}
