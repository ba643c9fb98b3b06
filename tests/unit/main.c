/* Unit-test runner: every suite found by tools/gen-suites.sh, one process per test (Check).
 * CK_RUN_SUITE=name / CK_RUN_CASE=name pick one; CK_FORK=no debugs under gdb. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
    SRunner *sr = srunner_create(NULL);
    int failed, run;

#define SUITE(name) srunner_add_suite(sr, suite_##name());
#include "suites.h"
#undef SUITE
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    run = srunner_ntests_run(sr);
    srunner_free(sr);
    printf("%d passed, %d failed\n", run - failed, failed);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
