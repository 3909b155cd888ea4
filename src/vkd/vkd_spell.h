/*
 * vkd_spell: how far apart two words are, so that an unknown key in
 * vkd.ini can be answered with "did you mean ...?".
 */
#ifndef VKD_SPELL_H
#define VKD_SPELL_H

/* Longer words are not compared: the table's row lives on the stack. */
#define VKD_SPELL_WORD_MAX 32

/*
 * The Levenshtein distance between a and b: the fewest inserted, deleted
 * or replaced bytes that turn one into the other. UINT_MAX when either is
 * longer than VKD_SPELL_WORD_MAX bytes.
 */
unsigned vkd_edit_distance(const char *a, const char *b);

#endif
