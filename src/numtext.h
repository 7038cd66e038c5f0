/*
 * Decimal text <-> numbers, for protocol 0/1 text opcodes (INT, LONG, FLOAT) and
 * protocol 0 output. Pure C99: no libc beyond string.h/stdint.h, no allocation
 * (callers pass buffers), exact results (no dependence on the C library's
 * strtod/printf, which vary between targets).
 */
#ifndef MPK_NUMTEXT_H
#define MPK_NUMTEXT_H

#include <stddef.h>
#include <stdint.h>

#define MPK_FLOAT_REPR_MAX 32

/* Writes Python's repr(x) for a double: the shortest text that reads back as the
 * same double, in Python's layout ('1.0', '0.1', '1e+16', '1e-05', '-0.0',
 * '5e-324', '1.7976931348623157e+308', 'inf', '-inf', 'nan'). Returns the length;
 * buf must hold MPK_FLOAT_REPR_MAX bytes; no NUL is written. */
size_t mpk_float_repr(double x, char *buf);

/* Parses s[0..n) as CPython's float() parser does for a FLOAT opcode (no
 * surrounding whitespace): optional sign, digits with optional '.' and exponent,
 * or inf/infinity/nan in any case. Correctly rounded (round half to even).
 * Returns 0 and *out, or -1 if malformed or if the value overflows to infinity
 * (CPython raises OverflowError there). */
int mpk_float_parse(const char *s, size_t n, double *out);

/* Decimal text of a little-endian two's complement integer le[0..n): '-' if
 * negative, then digits, no leading zeros ('0' for zero). Writes at most `cap`
 * bytes to out and returns the length, or 0 if cap is too small (cap >= 3*n+2 is
 * always enough). work must hold n+4 bytes of scratch. */
size_t mpk_bigint_to_decimal(const uint8_t *le, size_t n, char *out, size_t cap, uint8_t *work);

/* Parses [sign] decimal digits (at least one; '_' between digits allowed as in
 * Python's int()) into minimal little-endian two's complement bytes. Returns 0 and
 * *outn, or -1 if malformed or if out[0..cap) is too small (cap >= n/2+2 is always
 * enough). */
int mpk_decimal_to_bigint(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outn);

#endif
