// FUZZ_CHECK: an invariant a harness holds the code to; a violation is a crash libFuzzer keeps.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                    \
    do {                                                                          \
        if (!(cond)) {                                                            \
            std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", what,         \
                         __FILE__, __LINE__);                                     \
            std::abort();                                                         \
        }                                                                         \
    } while (0)
