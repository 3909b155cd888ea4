/*
 * vk_parse.c - numbers, sizes, durations and booleans as vkd.ini writes them.
 *
 * Hand-rolled rather than strtoull(), which accepts blanks, a sign and
 * "0x", and wraps "-1" around to the largest value.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "vk_parse.h"

/*
 * Consumes every digit, then reports ERANGE if the number did not fit;
 * *end is the first non-digit either way, so that the caller can report
 * garbage before range.
 */
static int parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t n = 0;
	int overflow = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned digit = (unsigned)(*s - '0');

		if (n > (UINT64_MAX - digit) / 10)
			overflow = 1;
		else
			n = n * 10 + digit;
	}
	*end = s;
	*out = n;
	return overflow ? -ERANGE : 0;
}

int vk_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t n;
	const char *end;
	int rc = parse_digits(text, &n, &end);

	if (rc == -EINVAL)
		return rc;
	if (*end)
		return -EINVAL;
	if (rc < 0 || n < min || n > max)
		return -ERANGE;
	*out = n;
	return 0;
}

static int size_shift(const char *suffix, unsigned *shift)
{
	static const char units[] = "kmg";
	const char *unit;

	if (*suffix == '\0') {
		*shift = 0;
		return 0;
	}
	unit = strchr(units, tolower((unsigned char)*suffix));
	if (!unit || *unit == '\0' || suffix[1] != '\0')
		return -EINVAL;
	*shift = 10 * (unsigned)(unit - units + 1);
	return 0;
}

int vk_parse_size(const char *text, size_t *out)
{
	uint64_t n;
	unsigned shift;
	const char *end;
	int rc = parse_digits(text, &n, &end);

	if (rc == -EINVAL)
		return rc;
	if (size_shift(end, &shift) < 0)
		return -EINVAL;
	if (rc < 0 || n > (uint64_t)(SIZE_MAX >> shift))
		return -ERANGE;
	*out = (size_t)(n << shift);
	return 0;
}

static int duration_scale(const char *unit, uint64_t *ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {
	    {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].name) == 0) {
			*ms = units[i].ms;
			return 0;
		}
	}
	return -EINVAL;
}

int vk_parse_duration_ms(const char *text, unsigned *out)
{
	uint64_t n;
	uint64_t scale;
	const char *end;
	int rc = parse_digits(text, &n, &end);

	if (rc == -EINVAL)
		return rc;
	if (duration_scale(end, &scale) < 0)
		return -EINVAL;
	if (rc < 0 || n > UINT_MAX / scale)
		return -ERANGE;
	*out = (unsigned)(n * scale);
	return 0;
}

int vk_parse_bool(const char *text, int *out)
{
	static const char *const yes[] = {"on", "yes", "true", "1"};
	static const char *const no[] = {"off", "no", "false", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}
