#include "core/symbol.h"

#include <string.h>

bool
symbol_valid(const char *s, size_t n)
{
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || c == '\0' || !strchr(".^=_-", c)))
            return false;
    }
    return true;
}
