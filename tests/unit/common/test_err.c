#include "tests/unit/unit.h"
#include "common/err.h"

#include <string.h>

START_TEST(err_field_and_names)
{
    struct qd_err e;

    qd_err_clear(&e);
    ck_assert_int_eq(qd_err_field(&e, QD_EINVAL, "params.symbols[2]", "bad %s", "symbol"),
                     QD_EINVAL);
    ck_assert_str_eq(e.field, "params.symbols[2]");
    ck_assert_str_eq(e.msg, "bad symbol");
    ck_assert_str_eq(qd_code_name(QD_EINVAL), "invalid_argument");
    ck_assert_str_eq(qd_code_name(QD_ENOTFOUND), "not_found");
    ck_assert_str_eq(qd_code_name((enum qd_code)999), "internal");
    ck_assert_int_eq(qd_err_set(NULL, QD_EIO, "x"), QD_EIO);
}
END_TEST

Suite *
suite_err(void)
{
    Suite *s = suite_create("err");
    TCase *tc = tcase_create("basics");

    tcase_add_test(tc, err_field_and_names);
    suite_add_tcase(s, tc);
    return s;
}
