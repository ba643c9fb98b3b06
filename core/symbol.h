#ifndef CORE_SYMBOL_H
#define CORE_SYMBOL_H

#include <stdbool.h>
#include <stddef.h>

/* A ticker symbol: 1-32 letters, digits or . ^ = _ - , starting with a letter or digit
 * (the same rule as the symbols table's CHECK). Pure; any thread. */
bool symbol_valid(const char *s, size_t n);

#endif
