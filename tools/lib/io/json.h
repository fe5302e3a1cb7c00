/* json.h - JSON text to and from jv values, byte for byte as libjq 1.6
 * does it (jv_parse_sized, jv_dump_string with no flags), faster on the
 * records mlde writes most: ASCII text and numbers of a few decimals.
 *
 * libjq builds its output a character at a time into a jv string, and
 * tokenizes its input a character at a time, which made them most of the
 * time of mlde-sample and a large part of mlde-eval --embed.  Where these
 * would differ from libjq in any way they hand the value over to it:
 * parsing declines and the caller calls jv_parse_sized; dumping asks libjq
 * for the numbers it cannot print exactly and for values nested deeper
 * than libjq prints.  tests/unit/test-json.c holds them to libjq's bytes. */
#ifndef MLDE_JSON_H
#define MLDE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <jv.h>

#include "base/buf.h"

/* Parse the len bytes at s as one JSON value into *out (owned by the
 * caller): true when they hold exactly one value in what this parser
 * reads (ASCII strings without \u escapes, numbers without exponents, at
 * most 200 deep), and it is then the value jv_parse_sized would return.
 * false, *out untouched, for anything else, valid or not: call
 * jv_parse_sized, which gives the value or its error. */
bool mlde_json_parse(const char *s, size_t len, jv *out);

/* Append x (borrowed) to out as jv_dump_string(x, 0) would write it.  x
 * must be valid (libjq aborts on an invalid value). */
void mlde_json_dump(jv x, mlde_buf *out);
/* The same with every object's keys in order, as jv_dump_string(x,
 * JV_PRINT_SORTED) writes it (request bodies: their bytes are a cache key). */
void mlde_json_dump_sorted(jv x, mlde_buf *out);

#endif
