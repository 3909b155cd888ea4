/*
 * vk_parse: the grammar of numbers, sizes, durations and booleans in vkd.ini.
 *
 * vkd reads its own keys with these, and an app reads its opt.* values
 * with them too, so that "64k" or "30s" mean the same thing on every line
 * of the file.
 *
 * Every function returns 0 and stores the value, or returns -EINVAL
 * (empty, a sign, a blank, "0x", garbage or an unknown suffix) or -ERANGE
 * (well-formed but out of range), leaving *out untouched (libvk's error
 * convention, vk_state.h). Garbage wins over range:
 * "99999999999999999999x" is -EINVAL.
 */
#ifndef VK_PARSE_H
#define VK_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include "vk_api.h"

VK_API_BEGIN

/* Decimal digits only, in min..max: "8", "65535". */
int vk_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Decimal digits and an optional suffix k/K, m/M, g/G, in powers of 1024:
 * "512", "64k", "1M".
 */
int vk_parse_size(const char *text, size_t *out);

/*
 * Decimal digits and an optional unit ms, s, m or h; no unit means
 * seconds: "30" = "30s" = 30000 ms, "250ms", "2m", "1h". At most UINT_MAX
 * milliseconds (about 49 days).
 */
int vk_parse_duration_ms(const char *text, unsigned *out);

/*
 * A boolean (ABI 2.10): on, yes, true or 1 store 1; off, no, false or 0
 * store 0; in any case ("On", "YES"). Anything else, the empty string
 * included, is -EINVAL.
 */
int vk_parse_bool(const char *text, int *out);

/* What a refusal of a boolean says was expected. */
#define VK_PARSE_BOOL_EXPECTED "on or off (or yes/no, true/false, 1/0)"

VK_API_END

#endif
