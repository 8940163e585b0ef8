// gcc 12 flags the _mm512_undefined_* inside its own intrinsics headers as uninitialised (a false positive).
// Included by the files that use 512-bit intrinsics; the pragmas hold for the rest of the file.
#pragma once
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
