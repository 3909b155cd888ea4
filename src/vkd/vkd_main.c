/*
 * vkd: the M:N virtual kernel daemon. See vkd(8).
 *
 *	vkd [-c FILE] [-t] [-f] [-V] [-h]
 *
 * Exit status: 0 after a clean stop (or a good `-t`), 1 when the
 * configuration or a module is bad or the daemon cannot start, 2 on a
 * usage error.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vkd_check.h"
#include "vkd_config.h"
#include "vkd_control.h"
#include "vkd_log.h"
#include "vkd_master.h"
#include "vkd_module.h"

enum { EXIT_USAGE = 2 };

struct options {
	const char *config;
	int test;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vkd [-c FILE] [-t] [-f] [-V] [-h]\n"
		"  -c FILE  configuration file (default %s)\n"
		"  -t       check the configuration and every module, then exit\n"
		"  -f       stay in the foreground (the only mode)\n"
		"  -V       print the version and exit\n"
		"  -h       print this help and exit\n",
		VKD_DEFAULT_CONFIG);
}

/* Returns -1 to go on, else an exit status. */
static int parse_options(int argc, char **argv, struct options *opts)
{
	int c;

	opts->config = VKD_DEFAULT_CONFIG;
	opterr = 0;
	/* The long forms people type by habit. */
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		argv[1] = "-h";
	if (argc == 2 && strcmp(argv[1], "--version") == 0)
		argv[1] = "-V";
	while ((c = getopt(argc, argv, ":c:tfVh")) != -1) {
		switch (c) {
		case 'c':
			opts->config = optarg;
			break;
		case 't':
			opts->test = 1;
			break;
		case 'f':
			break;
		case 'V':
			printf("vkd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case ':':
			fprintf(stderr, "vkd: option -%c needs an argument\n", optopt);
			usage(stderr);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "vkd: unknown option -%c\n", optopt);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vkd: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

static struct vkd_config *load_config(const char *path)
{
	struct vkd_config_errors errors;
	struct vkd_config *config;

	config = vkd_config_load(path, &errors);
	for (size_t i = 0; i < errors.count; i++)
		vkd_error("%s", errors.messages[i]);
	if (errors.dropped)
		vkd_error("%zu more errors not shown", errors.dropped);
	if (!config && errors.count == 0)
		vkd_error("%s: %s", path, strerror(errno));
	vkd_config_errors_free(&errors);
	return config;
}

static int check_modules(struct vkd_config *config)
{
	struct vkd_check_errors errors = {0};
	int rc;

	/* What is checked is what the first generation's workers load. */
	vkd_module_pin(config);
	/* Synchronous: there is nothing else to serve yet. */
	rc = vkd_check_run(config, &errors);

	for (size_t i = 0; i < errors.count; i++)
		vkd_error("%s", errors.messages[i]);
	vkd_check_errors_free(&errors);
	return rc;
}

int main(int argc, char **argv)
{
	struct vkd_config *config;
	struct options opts = {0};
	char *path;
	int rc;

	rc = parse_options(argc, argv, &opts);
	if (rc >= 0)
		return rc;
	vkd_log_init();
	/* `vkd -t` is a tool: its messages read as a tool's, not as log entries. */
	if (opts.test)
		vkd_log_set_format(VKD_LOG_PLAIN);
	/* Workers overwrite argv for their title: keep our own copy. */
	path = strdup(opts.config);
	if (!path) {
		vkd_error("out of memory");
		return EXIT_FAILURE;
	}
	config = load_config(path);
	if (!config) {
		free(path);
		return EXIT_FAILURE;
	}
	if (check_modules(config) < 0) {
		vkd_config_free(config);
		free(path);
		return EXIT_FAILURE;
	}
	if (opts.test) {
		printf("vkd: configuration OK\n");
		vkd_config_free(config);
		free(path);
		return EXIT_SUCCESS;
	}
	rc = vkd_master_run(path, config, argv);
	free(path);
	return rc;
}
