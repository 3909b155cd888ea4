/*
 * vk_app.c - what libvk does for an app's descriptor hooks (vk_app.h).
 */
#include "vk_app.h"
#include "vk_refused.h"

void vk_app_refuse(const struct vk_app_context *context, const char *key)
{
	vk_refused_set(context ? context->name : NULL, key);
}
