/* BSM against values computed by hand from the formulas (Hull's example S=42, K=40, r=10 %,
 * T=0.5, sigma=20 %: call 4.7594, put 0.8086) and with a dividend yield; put-call parity;
 * implied volatility round trips and its refusals. */
#include "tests/unit/unit.h"
#include "features/options.h"

#include <math.h>

static const struct {
    double S, K, T, r, q, v;
    bool call;
    double price, delta, gamma, vega, theta, rho;
} cases[] = {
    {42, 40, 0.5, 0.1, 0, 0.2, true, 4.75942239287, 0.779131290943, 0.0499626704059,
     0.088134150596, -0.0124906635468, 0.139820459134},
    {42, 40, 0.5, 0.1, 0, 0.2, false, 0.8085993729, -0.220868709057, 0.0499626704059,
     0.088134150596, -0.00206623149751, -0.0504254257665},
    {100, 95, 0.25, 0.05, 0.02, 0.35, true, 9.95615004316, 0.660708957763, 0.0207377553047,
     0.181455358916, -0.0388662862883, 0.140286864333},
    {100, 95, 0.25, 0.05, 0.02, 0.35, false, 4.27479317081, -0.33430352143, 0.0207377553047,
     0.181455358916, -0.0314663695925, -0.0942628632846},
};

START_TEST(prices_and_greeks)
{
    struct bsm_greeks g;
    struct qd_err err;

    ck_assert_int_eq(bsm_price(cases[_i].S, cases[_i].K, cases[_i].T, cases[_i].r, cases[_i].q,
                               cases[_i].v, cases[_i].call, &g, &err),
                     QD_OK);
    ck_assert(fabs(g.price - cases[_i].price) < 1e-9);
    ck_assert(fabs(g.delta - cases[_i].delta) < 1e-9);
    ck_assert(fabs(g.gamma - cases[_i].gamma) < 1e-9);
    ck_assert(fabs(g.vega - cases[_i].vega) < 1e-9);
    ck_assert(fabs(g.theta - cases[_i].theta) < 1e-9);
    ck_assert(fabs(g.rho - cases[_i].rho) < 1e-9);
}
END_TEST

START_TEST(parity_and_iv_round_trip)
{
    struct bsm_greeks c, p;
    struct qd_err err;
    double iv;

    for (double K = 50; K <= 150; K += 10)
        for (double v = 0.05; v < 1.5; v += 0.15) {
            bsm_price(100, K, 0.75, 0.03, 0.01, v, true, &c, &err);
            bsm_price(100, K, 0.75, 0.03, 0.01, v, false, &p, &err);
            /* C - P = S e^{-qT} - K e^{-rT} */
            ck_assert(fabs((c.price - p.price) - (100 * exp(-0.0075) - K * exp(-0.0225))) < 1e-9);
            if (c.vega > 1e-6) {
                ck_assert_int_eq(bsm_implied_vol(c.price, 100, K, 0.75, 0.03, 0.01, true, &iv,
                                                 &err),
                                 QD_OK);
                ck_assert_msg(fabs(iv - v) < 1e-6, "K %g v %g: iv %g", K, v, iv);
            }
        }
}
END_TEST

START_TEST(iv_refusals)
{
    struct qd_err err;
    double iv;

    /* below intrinsic (call worth at least S e^{-qT} - K e^{-rT}) and above the spot */
    ck_assert_int_eq(bsm_implied_vol(1.0, 100, 80, 1, 0.0, 0.0, true, &iv, &err), QD_EINVAL);
    ck_assert_int_eq(bsm_implied_vol(101.0, 100, 80, 1, 0.0, 0.0, true, &iv, &err), QD_EINVAL);
    ck_assert_int_eq(bsm_implied_vol(-1, 100, 80, 1, 0.0, 0.0, true, &iv, &err), QD_EINVAL);
    ck_assert_int_eq(bsm_price(100, 100, 0, 0, 0, 0.2, true, &(struct bsm_greeks){0}, &err),
                     QD_EINVAL);
}
END_TEST

Suite *
suite_options(void)
{
    Suite *s = suite_create("options_bsm");
    TCase *tc = tcase_create("all");

    tcase_add_loop_test(tc, prices_and_greeks, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, parity_and_iv_round_trip);
    tcase_add_test(tc, iv_refusals);
    suite_add_tcase(s, tc);
    return s;
}
