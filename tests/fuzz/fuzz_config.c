/*
 * fuzz_config.c - libFuzzer target for the vkd.ini loader.
 *
 * Any bytes are a configuration file. Loading must never crash, overflow
 * or leak, and ends one of two ways: a configuration that keeps the
 * promises of vkd_config.h (every app has a module path and an address,
 * every value within its bounds) and no error, or no configuration and
 * errors that each name the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vkd_config.h"

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static void check_app(const struct vkd_app_config *app)
{
	CHECK(app->name && app->name[0]);
	CHECK(app->module_path && app->module_path[0] == '/');
	CHECK(app->listen_count >= 1);
	CHECK(app->heap_size == 0 ||
	      (app->heap_size >= VKD_HEAP_MIN && app->heap_size <= VKD_HEAP_MAX));
	CHECK(app->max_connections >= 1 && app->max_connections <= VKD_MAX_CONNECTIONS_MAX);
	CHECK(app->backlog >= 1 && app->backlog <= VKD_BACKLOG_MAX);
	CHECK(app->module_fd == -1);
	for (size_t i = 0; i < app->listen_count; i++)
		CHECK(app->listen[i].text[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vkd_config_errors errors;
	struct vkd_config *config;

	memset(&errors, 0, sizeof(errors));
	config = vkd_config_load_buffer("fuzz.ini", (const char *)data, size, &errors);
	if (config) {
		CHECK(errors.count == 0 && errors.dropped == 0);
		CHECK(config->app_count >= 1);
		CHECK(config->workers >= 1 && config->workers <= VKD_WORKERS_MAX);
		CHECK(config->control_path && config->control_path[0] == '/');
		CHECK(config->control_mode <= 0777);
		for (size_t i = 0; i < config->app_count; i++)
			check_app(&config->apps[i]);
		vkd_config_free(config);
	} else {
		CHECK(errors.count >= 1);
		for (size_t i = 0; i < errors.count; i++)
			CHECK(strncmp(errors.messages[i], "fuzz.ini", 8) == 0);
	}
	vkd_config_errors_free(&errors);
	return 0;
}
