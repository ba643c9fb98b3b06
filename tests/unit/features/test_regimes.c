/* Regimes on hand-made inputs: each component of the risk score, the cap, the fallbacks. */
#include "tests/unit/unit.h"
#include "features/regimes.h"

#include <math.h>

START_TEST(trend_and_volatility)
{
    static const double c[6] = {10, 11, 12, 11, 10, 9};
    static const double vix[6] = {12, 16, 22, 31, NAN, 15};
    double out[6], scratch[6];

    feat_trend_regime(c, 6, 3, out);
    ck_assert(isnan(out[1]));
    ck_assert(out[2] == 1 && out[3] == -1 && out[4] == -1 && out[5] == -1);
    feat_volatility_regime(c, vix, 6, &regime_defaults, out, scratch);
    ck_assert(out[0] == 0 && out[1] == 1 && out[2] == 2 && out[3] == 3 && isnan(out[4]) &&
              out[5] == 1);
}
END_TEST

START_TEST(risk_score)
{
    struct regime_params p = regime_defaults;
    static const double c[5] = {10, 10, 10, 9, 9};
    static const double vix[5] = {10, 21, 31, 31, 12};
    static const double hy[5] = {3, 3, 3, 8, NAN};
    static const double curve[5] = {1, 1, -0.5, -0.5, 1};
    double out[5], scratch[10];

    p.trend_window = 2;
    feat_risk_regime(c, vix, hy, curve, 5, &p, out, scratch);
    ck_assert(isnan(out[0]));                  /* trend SMA(2) not defined yet */
    ck_assert(out[1] == 1);                    /* VIX >= 20 */
    ck_assert(out[2] == 3);                    /* VIX >= 30 (2) + inverted curve (1) */
    ck_assert(out[3] == 3);                    /* 2 + below trend + HY 2 + curve: capped */
    ck_assert(out[4] == 0);                    /* calm; the missing HY adds nothing */
    /* fallbacks: no VIX, no FRED: realized vol x 100 and the trend only */
    feat_risk_regime(c, NULL, NULL, NULL, 5, &p, out, scratch);
    ck_assert(isnan(out[4]));                  /* 21-day realized vol not defined on 5 bars */
}
END_TEST

Suite *
suite_regimes(void)
{
    Suite *s = suite_create("regimes");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, trend_and_volatility);
    tcase_add_test(tc, risk_score);
    suite_add_tcase(s, tc);
    return s;
}
