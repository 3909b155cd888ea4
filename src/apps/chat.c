/*
 * chat: a line-based chat room over publish/subscribe (vk_pubsub.h).
 *
 * Each connection is a member, in whichever worker accepted it. A line it
 * sends reaches every other member of every worker as "NAME: line"; joins
 * and leaves are announced ("* NAME joined", "* NAME left"). The leave is
 * the member's last will (vk_will()): the kernel publishes it when the
 * member's micro-process ends, also when it faulted, so a member that
 * crashed is announced as gone like one that quit.
 *
 * A member is "guestW.N" (its worker and micro-process) until it sends
 * "/nick NAME". "/quit" leaves. A member that does not read what the room
 * sends loses lines once its queue is full (VK_SUBSCRIPTION_RING bytes);
 * it is told how many with "* N lines dropped" when it reads again.
 *
 * Options: opt.room (the topic, default "chat"); opt.crash_command = on
 * makes "/crash" fault the member's micro-process (for tests).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk.h"

#define CHAT_LINE 1024
#define CHAT_NAME 32
/*
 * Lines a member publishes in one loop iteration at most: a client that
 * sends faster waits for the next one. Every subscriber then gets a turn
 * to read between bursts, and a burst (16 lines of at most 1 KiB) stays
 * within what a subscription holds, so one that keeps up loses nothing.
 */
#define CHAT_BURST 16

struct chat_config {
	char room[VK_TOPIC_MAX + 1];
	int crash_command;
};

/*
 * Passes what the room publishes on to the member, and says what was
 * dropped. The kernel writes the room's lines from the subscription's
 * queue to the member's socket without running the member (vk_relay()):
 * a line costs the member no dispatch, so no protection change.
 */
static void relay(struct vk_thread *that)
{
	struct {
		struct vk_socket *sub;
		uint64_t dropped;
		ssize_t rc;
		int len;
		char notice[64];
	} * self;

	vk_begin();
	self->sub = vk_arg();
	for (;;) {
		vk_relay(self->sub, that->socket, self->rc);
		if (self->rc == 0)
			break;
		/* In self: C locals do not survive the blocking write. */
		self->len = snprintf(self->notice, sizeof(self->notice), "* %llu lines dropped\n",
				     (unsigned long long)(vk_dropped(self->sub) - self->dropped));
		self->dropped = vk_dropped(self->sub);
		vk_write(self->notice, (size_t)self->len);
	}
	vk_finally();
	/* The member went away: its main coroutine ends the process. */
	vk_clear_error();
	vk_end();
}

/* "* NAME left\n" as the last will: published however the member ends. */
#define chat_will(self, room)                                                                \
	do {                                                                                 \
		int vk_wl_ =                                                                 \
		    snprintf((self)->out, sizeof((self)->out), "* %s left\n", (self)->name); \
		vk_will((room), (self)->out, (size_t)vk_wl_);                                \
	} while (0)

/* The line (ending in LF, or CR LF as telnet sends) is exactly `cmd`: "/quitter" is not "/quit". */
static int is_command(const char *line, const char *cmd)
{
	size_t n = strlen(cmd);

	return strncmp(line, cmd, n) == 0 &&
	       (strcmp(line + n, "\n") == 0 || strcmp(line + n, "\r\n") == 0);
}

/* The `n` bytes at `line` are only a line ending (LF or CR LF). */
static int is_line_end(const char *line, size_t n)
{
	return (n == 1 && line[0] == '\n') || (n == 2 && line[0] == '\r' && line[1] == '\n');
}

/*
 * The length of the name a "/nick NAME" line of `n` bytes gives: without
 * its line ending (LF or CR LF: a telnet user's name kept its CR, and
 * every line of theirs then began with a carriage return) and cut at a
 * NUL byte; 0 if that leaves nothing.
 */
static size_t nick_length(const char *line, size_t n)
{
	const char *name = line + 6;
	size_t len = n - 6;

	if (len && name[len - 1] == '\n')
		len--;
	if (len && name[len - 1] == '\r')
		len--;
	return strnlen(name, len);
}

static void chat_main(struct vk_thread *that)
{
	struct {
		const struct chat_config *config;
		struct vk_socket *sub;
		char name[CHAT_NAME];
		char line[CHAT_LINE];
		char out[CHAT_LINE + CHAT_NAME + 8];
		ssize_t n;
		int len;
		double burst_at; /* the loop iteration (its clock) of the burst */
		int burst;	 /* lines published in it */
		int cut;	 /* the last piece was cut from a longer line */
		int rest;	 /* this piece is the rest of a cut line: text, never a command */
	} * self;

	vk_begin();
	self->config = vk_arg();
	snprintf(self->name, sizeof(self->name), "guest%u.%llu", vk_worker(),
		 (unsigned long long)(vk_self() & 0xffffffffffffull));
	vk_subscribe(self->sub, self->config->room);
	vk_spawn_detached(relay, self->sub);
	chat_will(self, self->config->room);
	self->len = snprintf(self->out, sizeof(self->out), "* %s joined\n", self->name);
	vk_publish(self->config->room, self->out, (size_t)self->len);
	for (;;) {
		/* Room for the newline a piece may need and for the NUL after it. */
		vk_readline(self->n, self->line, sizeof(self->line) - 2);
		if (self->n == 0)
			break;
		/* A line longer than the buffer goes out in pieces, each a line. */
		if (self->cut && is_line_end(self->line, (size_t)self->n)) {
			/* Only the end of a line cut just before it: no empty line. */
			self->cut = 0;
			continue;
		}
		self->rest = self->cut;
		self->cut = self->line[self->n - 1] != '\n';
		if (self->cut)
			self->line[self->n++] = '\n';
		self->line[self->n] = '\0';
		if (!self->rest && is_command(self->line, "/quit"))
			break;
		if (!self->rest && self->config->crash_command && is_command(self->line, "/crash"))
			raise(SIGSEGV);
		if (!self->rest && strncmp(self->line, "/nick ", 6) == 0 &&
		    nick_length(self->line, (size_t)self->n) > 0) {
			char old[CHAT_NAME];

			memcpy(old, self->name, sizeof(old));
			snprintf(self->name, sizeof(self->name), "%.*s",
				 (int)nick_length(self->line, (size_t)self->n), self->line + 6);
			self->len = snprintf(self->out, sizeof(self->out), "* %s is now %s\n", old,
					     self->name);
			vk_publish(self->config->room, self->out, (size_t)self->len);
			chat_will(self, self->config->room);
			continue;
		}
		/* The line by its length: a NUL byte in it is passed on, and does not
		 * cut off the rest and its newline (gluing the next line to it). */
		self->len = snprintf(self->out, sizeof(self->out), "%s: ", self->name);
		memcpy(self->out + self->len, self->line, (size_t)self->n);
		self->len += (int)self->n;
		vk_publish(self->config->room, self->out, (size_t)self->len);
		/* The loop's clock moves once an iteration: it tells a burst. */
		if (vk_now(that) != self->burst_at) {
			self->burst_at = vk_now(that);
			self->burst = 0;
		}
		if (++self->burst >= CHAT_BURST)
			vk_sleep(0);
	}
	vk_finally();
	/* A reset or a timeout ends the membership; the will announces it. */
	vk_clear_error();
	vk_end();
}

/* 1 with a line naming the key when an option is refused, else 0. */
static int chat_options_bad(const struct vk_app_context *context, const char *room,
			    const char *crash, int *crash_command)
{
	if (strlen(room) == 0 || strlen(room) > VK_TOPIC_MAX) {
		fprintf(stderr, "chat: app %s: opt.room: expected 1 to %d bytes, got '%s'\n",
			context->name, VK_TOPIC_MAX, room);
		vk_app_refuse(context, "room");
		return 1;
	}
	if (crash && vk_parse_bool(crash, crash_command) < 0) {
		fprintf(stderr,
			"chat: app %s: opt.crash_command: expected " VK_PARSE_BOOL_EXPECTED
			", got '%s'\n",
			context->name, crash);
		vk_app_refuse(context, "crash_command");
		return 1;
	}
	return 0;
}

static void *chat_init(const struct vk_app_context *context, int *error)
{
	const char *room = context->option(context, "room");
	const char *crash = context->option(context, "crash_command");
	struct chat_config *config = calloc(1, sizeof(*config));

	if (!config) {
		*error = ENOMEM;
		return NULL;
	}
	if (!room)
		room = "chat";
	if (chat_options_bad(context, room, crash, &config->crash_command)) {
		free(config);
		*error = EINVAL;
		return NULL;
	}
	strcpy(config->room, room);
	return config;
}

static void chat_fini(void *state)
{
	free(state);
}

VK_APP_FULL("chat", chat_main, 64 * 1024, chat_init, chat_fini);
