/*
 * vkd_spell: how far apart two words are; see vkd_spell.h.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "vkd_spell.h"

unsigned vkd_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[VKD_SPELL_WORD_MAX + 1];

	if (la > VKD_SPELL_WORD_MAX || lb > VKD_SPELL_WORD_MAX)
		return UINT_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	/* One row of the table at a time: row[j] is the distance from a[0..i) to b[0..j). */
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}
