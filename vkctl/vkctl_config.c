/*
 * vkctl_config: the control key of vkd.ini; see vkctl_config.h.
 *
 * inih is fed by a reader of our own for the same reasons as in
 * vkd_config.c: it strips leading blanks (so that inih's multi-line
 * continuation never joins an indented key to the previous value) and
 * reads section headers itself, handing inih an empty line instead, so
 * that a header is recognized exactly when vkd recognizes it. inih asks
 * for one line and calls the handler for it before asking for the next,
 * so the reader's section state is the handler's.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_addr.h"
#include "vkctl_config.h"
#include "vkd_config.h"

struct control_reader {
	FILE *fp;
	char *buf;
	size_t cap;
	int line;
	int in_vkd; /* the last section header was [vkd] */
	int read_errno;
	char *out;
	size_t size;
};

static const char *skip_blanks(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

/* A header vkd takes for [vkd]: the name between "[" and the first "]",
 * blanks around it ignored, nothing but a comment after. */
static int vkd_header(const char *s)
{
	const char *close = strchr(s, ']');
	const char *name = skip_blanks(s + 1);
	const char *end = close;
	const char *rest;

	if (!close)
		return 0;
	rest = skip_blanks(close + 1);
	if (*rest && *rest != ';' && *rest != '#')
		return 0;
	while (end > name && isspace((unsigned char)end[-1]))
		end--;
	return end - name == 3 && memcmp(name, "vkd", 3) == 0;
}

/* Take one line; returns what inih should see, or NULL at the end. */
static const char *next_line(struct control_reader *r, int size)
{
	ssize_t n;
	const char *s;

	errno = 0;
	n = getline(&r->buf, &r->cap, r->fp);
	if (n < 0) {
		if (ferror(r->fp))
			r->read_errno = errno ? errno : EIO;
		else if (!feof(r->fp))
			r->read_errno = ENOMEM; /* getline() could not grow its buffer */
		return NULL;
	}
	r->line++;
	if (n > 0 && r->buf[n - 1] == '\n')
		r->buf[--n] = '\0';
	if (n > 0 && r->buf[n - 1] == '\r')
		r->buf[--n] = '\0';
	s = r->buf;
	if (r->line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3; /* UTF-8 byte order mark */
	/* vkd rejects a line with a NUL byte or longer than inih's buffer. */
	if (strlen(s) != (size_t)(n - (s - r->buf)))
		return "";
	s = skip_blanks(s);
	if (strlen(s) >= (size_t)size)
		return "";
	if (*s == '[') {
		r->in_vkd = vkd_header(s);
		return "";
	}
	return s;
}

static char *reader(char *out, int size, void *stream)
{
	const char *s;

	if (size < 2)
		return NULL;
	s = next_line(stream, size);
	if (!s)
		return NULL;
	/* next_line() checked that it fits */
	memcpy(out, s, strlen(s) + 1);
	return out;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct control_reader *r = user;
	char path[VK_ADDR_UNIX_PATH_SIZE];
	const char *why;

	(void)section; /* the reader's, as vkd reads headers */
	if (!r->in_vkd || strcmp(name, "control") != 0 || !value || value[0] == '\0')
		return 1;
	/* A bad value makes vkd refuse the file: then connect() says why. */
	if (vk_addr_unix_path(value, path, &why) == 0)
		value = path;
	snprintf(r->out, r->size, "%s", value);
	return 1;
}

int vkctl_config_control(const char *path, char *out, size_t size)
{
	struct control_reader r = {.out = out, .size = size};
	int rc;

	snprintf(out, size, "%s", VKD_DEFAULT_CONTROL);
	r.fp = fopen(path, "re");
	if (!r.fp)
		return -1;
	rc = ini_parse_stream(reader, &r, on_key, &r);
	if (rc == -2 && !r.read_errno)
		r.read_errno = ENOMEM;
	fclose(r.fp);
	free(r.buf);
	if (!r.read_errno)
		return 0;
	snprintf(out, size, "%s", VKD_DEFAULT_CONTROL);
	errno = r.read_errno;
	return -1;
}
