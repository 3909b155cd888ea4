/*
 * vk_refused.c - the option an app's init refused; see vk_refused.h.
 */
#include <stdio.h>
#include <string.h>

#include "vk_refused.h"

#define VK_REFUSED_MAX 128

static char refused_app[VK_REFUSED_MAX];
static char refused_key[VK_REFUSED_MAX];

/* Copy `s` whole into `out`, or return -1. */
static int keep(char *out, size_t size, const char *s)
{
	int n = snprintf(out, size, "%s", s);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

void vk_refused_set(const char *app, const char *key)
{
	if (!app || !key || keep(refused_app, sizeof(refused_app), app) < 0 ||
	    keep(refused_key, sizeof(refused_key), key) < 0)
		refused_app[0] = refused_key[0] = '\0';
}

const char *vk_refused_key(const char *app)
{
	if (!refused_key[0] || !app || strcmp(refused_app, app) != 0)
		return NULL;
	return refused_key;
}
