#ifndef TESTS_UNIT_UNIT_H
#define TESTS_UNIT_UNIT_H

/* Every unit-test file includes this and defines one or more `Suite *suite_<name>(void)`;
 * tools/gen-suites.sh finds them, so no list needs editing. */
#include <check.h>

#define SUITE(name) Suite *suite_##name(void);
#include "suites.h"
#undef SUITE

#endif
