#include "proxy_answer.h"

#include <string.h>
#include <strings.h>

/* A token's byte (RFC 9110 5.6.2): a switch, not a strchr() a byte. */
static int tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	switch (c) {
	case '!':
	case '#':
	case '$':
	case '%':
	case '&':
	case '\'':
	case '*':
	case '+':
	case '-':
	case '.':
	case '^':
	case '_':
	case '`':
	case '|':
	case '~':
		return 1;
	default:
		return 0;
	}
}

/* name (len bytes) is `known`, a lower-case literal, in any case. */
#define IS(known) (len == sizeof(known) - 1 && strncasecmp(name, known, len) == 0)

/*
 * By length first: a field compares its name with at most two others
 * (a strcasecmp() with each of 11 or 13 names a field cost ~2,700
 * instructions a proxied request, callgrind).
 */
enum proxy_field_id proxy_field_id(const char *name, size_t len)
{
	switch (len) {
	case 2:
		return IS("te") ? PROXY_F_TE : PROXY_F_OTHER;
	case 4:
		return IS("host") ? PROXY_F_HOST : IS("date") ? PROXY_F_DATE : PROXY_F_OTHER;
	case 6:
		return IS("server")   ? PROXY_F_SERVER
		       : IS("expect") ? PROXY_F_EXPECT
				      : PROXY_F_OTHER;
	case 7:
		return IS("trailer")   ? PROXY_F_TRAILER
		       : IS("upgrade") ? PROXY_F_UPGRADE
				       : PROXY_F_OTHER;
	case 9:
		return IS("forwarded") ? PROXY_F_FORWARDED : PROXY_F_OTHER;
	case 10:
		return IS("connection")	  ? PROXY_F_CONNECTION
		       : IS("keep-alive") ? PROXY_F_KEEP_ALIVE
					  : PROXY_F_OTHER;
	case 12:
		return IS("content-type") ? PROXY_F_CONTENT_TYPE : PROXY_F_OTHER;
	case 14:
		return IS("content-length") ? PROXY_F_CONTENT_LENGTH : PROXY_F_OTHER;
	case 15:
		return IS("x-forwarded-for") ? PROXY_F_X_FORWARDED_FOR : PROXY_F_OTHER;
	case 16:
		return IS("proxy-connection") ? PROXY_F_PROXY_CONNECTION : PROXY_F_OTHER;
	case 17:
		return IS("transfer-encoding") ? PROXY_F_TRANSFER_ENCODING : PROXY_F_OTHER;
	case 18:
		return IS("proxy-authenticate") ? PROXY_F_PROXY_AUTHENTICATE : PROXY_F_OTHER;
	case 19:
		return IS("proxy-authorization") ? PROXY_F_PROXY_AUTHORIZATION : PROXY_F_OTHER;
	default:
		return PROXY_F_OTHER;
	}
}

#undef IS

int proxy_list_has(const char *list, const char *token)
{
	size_t len = strlen(token);

	while (*list) {
		size_t n;

		list += strspn(list, " \t,");
		n = strcspn(list, " \t,");
		if (n == len && strncasecmp(list, token, len) == 0)
			return 1;
		list += n;
	}
	return 0;
}

/* A Content-Length value: digits, or a list of the same digits. */
static int parse_length(const char *value, int64_t *out)
{
	int64_t seen = -1;

	while (*value) {
		uint64_t v = 0;
		size_t digits = 0;

		value += strspn(value, " \t,");
		if (!*value)
			break;
		for (; *value >= '0' && *value <= '9'; value++, digits++) {
			uint64_t d = (uint64_t)(*value - '0');

			if (v > ((uint64_t)INT64_MAX - d) / 10)
				return -1;
			v = v * 10 + d;
		}
		if (!digits || (*value && !strchr(" \t,", *value)))
			return -1;
		if (seen >= 0 && (int64_t)v != seen)
			return -1;
		seen = (int64_t)v;
	}
	if (seen < 0)
		return -1;
	if (*out >= 0 && *out != seen)
		return -1;
	*out = seen;
	return 0;
}

/* "HTTP/1.x NNN reason"; the line without its CRLF. */
static int parse_status(char *line, struct proxy_answer *a)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' || line[8] != ' ')
		return -1;
	a->version = line[7] == '0' ? 10 : 11;
	for (int i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
	}
	if (line[12] != ' ' && line[12] != '\0')
		return -1;
	a->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	/* The library sends 100..599 only: another status would fail once the head is due. */
	if (a->status < 100 || a->status > 599)
		return -1;
	for (const char *p = line + 12; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return -1;
	}
	return 0;
}

/* "name: value"; the line without its CRLF. */
static int parse_field(char *line, struct proxy_answer *a)
{
	char *colon = line, *value, *end;

	while (tchar((unsigned char)*colon))
		colon++;
	if (colon == line || *colon != ':' || a->nfields == PROXY_FIELDS_MAX)
		return -1;
	*colon = '\0';
	value = colon + 1 + strspn(colon + 1, " \t");
	end = value + strlen(value);
	for (const char *p = value; p < end; p++) {
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return -1;
	}
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	switch (proxy_field_id(line, (size_t)(colon - line))) {
	case PROXY_F_CONTENT_LENGTH:
		if (parse_length(value, &a->length) < 0)
			return -1;
		break;
	case PROXY_F_TRANSFER_ENCODING:
		if (a->chunked || strcasecmp(value, "chunked") != 0)
			return -1;
		a->chunked = 1;
		break;
	case PROXY_F_CONNECTION:
		if (a->nconnection == PROXY_CONNECTION_MAX)
			return -1;
		if (proxy_list_has(value, "close"))
			a->close = 1;
		/* Only keep-alive, itself dropped: nothing more for proxy_answer_dropped(). */
		if (strcasecmp(value, "keep-alive") != 0)
			a->connection[a->nconnection++] = value;
		break;
	case PROXY_F_CONTENT_TYPE:
		a->type = value;
		break;
	default:
		break;
	}
	a->nfields++;
	return 0;
}

int proxy_answer_parse(char *buf, size_t len, struct proxy_answer *a)
{
	char *line = buf, *end = buf + len;
	int ended = 0;

	memset(a, 0, sizeof(*a));
	a->length = -1;
	a->fields = buf + len; /* no field yet */
	while (line < end) {
		char *lf = memchr(line, '\n', (size_t)(end - line));

		/*
		 * Every line ends in CRLF; no CR elsewhere, no obs-fold, no NUL
		 * (the checks below read up to the first NUL: bytes past it would
		 * go on unchecked).
		 */
		if (!lf || lf == line || lf[-1] != '\r' ||
		    memchr(line, '\r', (size_t)(lf - 1 - line)) ||
		    memchr(line, '\0', (size_t)(lf - line)))
			return -1;
		lf[-1] = '\0';
		if (line == buf) {
			if (parse_status(line, a) < 0)
				return -1;
		} else if (*line == '\0') {
			a->fields_end = line;
			ended = 1;
			break;
		} else if (*line == ' ' || *line == '\t' || parse_field(line, a) < 0) {
			return -1;
		} else if (a->nfields == 1) {
			a->fields = line;
		}
		line = lf + 1;
	}
	if (!ended || (a->chunked && a->length >= 0))
		return -1;
	if (a->version == 10)
		a->close = 1;
	return 0;
}

enum proxy_framing proxy_answer_framing(const struct proxy_answer *a, int head)
{
	if (head || a->status < 200 || a->status == 204 || a->status == 304)
		return PROXY_BODY_NONE;
	if (a->chunked)
		return PROXY_BODY_CHUNKED;
	if (a->length >= 0)
		return PROXY_BODY_LENGTH;
	return PROXY_BODY_CLOSE;
}

int proxy_answer_next(const struct proxy_answer *a, const char **at, const char **name,
		      const char **value)
{
	const char *line = *at ? *at : a->fields, *v, *lf;

	if (line >= a->fields_end)
		return 0;
	/* name NUL, blanks, value NUL (more NULs for trailing blanks), NUL LF */
	v = line + strlen(line) + 1;
	v += strspn(v, " \t");
	lf = memchr(v, '\n', (size_t)(a->fields_end - v));
	*name = line;
	*value = v;
	*at = lf ? lf + 1 : a->fields_end;
	return 1;
}

int proxy_answer_dropped(const struct proxy_answer *a, const char *name)
{
	switch (proxy_field_id(name, strlen(name))) {
	case PROXY_F_CONNECTION:
	case PROXY_F_KEEP_ALIVE:
	case PROXY_F_PROXY_CONNECTION:
	case PROXY_F_TRANSFER_ENCODING:
	case PROXY_F_CONTENT_LENGTH:
	case PROXY_F_TE:
	case PROXY_F_TRAILER:
	case PROXY_F_UPGRADE:
	case PROXY_F_SERVER:
	case PROXY_F_DATE:
	case PROXY_F_CONTENT_TYPE:
		return 1;
	default:
		break;
	}
	for (unsigned i = 0; i < a->nconnection; i++) {
		if (proxy_list_has(a->connection[i], name))
			return 1;
	}
	return 0;
}
