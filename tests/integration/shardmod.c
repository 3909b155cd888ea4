/*
 * shardmod: [app shard], channels to the shard that owns a key, for
 * tests/integration/channel-remote.sh.
 *
 * A sharded service "probe" (one per worker) answers messages on the
 * channels opened to it; a message is lines ended by a hup. Its first
 * line says what to do:
 *   "echo"    reply "worker W" (the service's worker), then every other
 *             line of the message, then a hup;
 *   "bulk N"  reply "worker W", then N bytes of a pattern, then a hup;
 *   "close"   close the channel without a word;
 *   "crash"   fault the service's micro-process.
 *
 * A connection speaks lines to the app, which opens a channel to the
 * owner of KEY (vk_channel_open_key) for each and reports what it saw:
 *   "where KEY"         -> "me W owner O" (this worker, the key's shard)
 *   "echo KEY W1 W2 .." -> the replies to two messages on one channel
 *                          (W1 W2 .., then "again"), "|" between lines,
 *                          ";" between messages
 *   "bulk KEY N"        -> "bulk W N OK" (or BAD), N bytes read exactly
 *   "close KEY"         -> "close read=R write=E": what a readline and a
 *                          write+flush gave after the service closed
 *   "crash KEY"         -> "crash read=R write=E" after the service faulted
 * R and E are counts or -errno; an unexpected error ends a command with
 * "error -E".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_app.h"
#include "vk_channel.h"
#include "vk_socket.h"

#define PROBE "probe"
#define LINE 256
#define CHUNK 4096

static char pattern(size_t i)
{
	return (char)('a' + i % 1009 % 26);
}

/* One channel to the service: its messages, until the opener closes. */
static void probe_one(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
		char cmd[LINE];
		char line[LINE];
		char buf[CHUNK];
		ssize_t n;
		size_t want, off, len;
		int head;
	} * self;

	vk_begin();
	self->peer = that->socket;
	for (;;) {
		vk_socket_readline(self->peer, self->n, self->cmd, sizeof(self->cmd) - 1);
		if (self->n == 0)
			break;
		self->cmd[self->n] = '\0';
		if (strcmp(self->cmd, "crash\n") == 0)
			raise(SIGSEGV);
		if (strcmp(self->cmd, "close\n") == 0)
			break;
		self->head = snprintf(self->line, sizeof(self->line), "worker %u\n", vk_worker());
		vk_socket_write(self->peer, self->line, (size_t)self->head);
		if (strncmp(self->cmd, "bulk ", 5) == 0) {
			self->want = strtoul(self->cmd + 5, NULL, 10);
			for (self->off = 0; self->off < self->want; self->off += self->len) {
				self->len =
				    self->want - self->off < CHUNK ? self->want - self->off : CHUNK;
				for (size_t i = 0; i < self->len; i++)
					self->buf[i] = pattern(self->off + i);
				vk_socket_write(self->peer, self->buf, self->len);
			}
		}
		/* The rest of the message comes back (nothing, after bulk). */
		for (;;) {
			vk_socket_readline(self->peer, self->n, self->line, sizeof(self->line));
			if (self->n == 0)
				break;
			vk_socket_write(self->peer, self->line, (size_t)self->n);
		}
		vk_socket_readhup(self->peer);
		vk_socket_flush(self->peer);
		vk_socket_hup(self->peer);
	}
	vk_finally();
	vk_clear_error();
	vk_channel_close(self->peer);
	vk_end();
}

static void probe_main(struct vk_thread *that)
{
	struct {
		struct vk_socket *peer;
	} * self;

	vk_begin();
	for (;;) {
		vk_channel_accept(self->peer);
		vk_use_socket(self->peer);
		vk_spawn_detached(probe_one, NULL);
	}
	vk_end();
}

struct shard_cmd {
	char verb[16];
	char key[64];
	char rest[LINE];
};

/* Send one message (its lines) and append the reply's lines to `out`. */
#define exchange(self, first)                                                                      \
	do {                                                                                       \
		vk_socket_write((self)->ch, first, strlen(first));                                 \
		vk_socket_write((self)->ch, (self)->msg, strlen((self)->msg));                     \
		vk_socket_hup((self)->ch);                                                         \
		for ((self)->lines = 0;; (self)->lines++) {                                        \
			vk_socket_readline((self)->ch, (self)->n, (self)->in, sizeof((self)->in)); \
			if ((self)->n == 0)                                                        \
				break;                                                             \
			(self)->len += (size_t)snprintf(                                           \
			    (self)->out + (self)->len, sizeof((self)->out) - (self)->len,          \
			    "%s%.*s", (self)->lines ? "|" : "", (int)(self)->n - 1, (self)->in);   \
		}                                                                                  \
		vk_socket_readhup((self)->ch);                                                     \
	} while (0)

/* One command, on its own channel; its reply goes to the client. */
static void shard_command(struct vk_thread *that)
{
	struct {
		struct shard_cmd *cmd;
		struct vk_socket *ch;
		char msg[LINE + 8];
		char in[LINE];
		char out[2 * LINE + 64];
		char buf[CHUNK];
		size_t len, got, want;
		ssize_t n, rd, wr;
		int lines, ok;
	} * self;

	vk_begin();
	self->cmd = vk_arg();
	vk_channel_open_key(self->ch, PROBE, self->cmd->key, strlen(self->cmd->key));
	if (strcmp(self->cmd->verb, "echo") == 0) {
		self->msg[0] = '\0';
		for (char *w = strtok(self->cmd->rest, " "); w; w = strtok(NULL, " "))
			snprintf(self->msg + strlen(self->msg),
				 sizeof(self->msg) - strlen(self->msg), "%s\n", w);
		exchange(self, "echo\n");
		self->out[self->len++] = ';';
		strcpy(self->msg, "again\n");
		exchange(self, "echo\n");
		self->out[self->len++] = '\n';
		vk_write(self->out, self->len);
	} else if (strcmp(self->cmd->verb, "bulk") == 0) {
		self->want = strtoul(self->cmd->rest, NULL, 10);
		snprintf(self->msg, sizeof(self->msg), "bulk %zu\n", self->want);
		vk_socket_write(self->ch, self->msg, strlen(self->msg));
		vk_socket_hup(self->ch);
		vk_socket_readline(self->ch, self->n, self->in, sizeof(self->in) - 1);
		self->in[self->n > 0 ? self->n - 1 : 0] = '\0';
		self->ok = 1;
		while (self->got < self->want) {
			self->len = self->want - self->got < CHUNK ? self->want - self->got : CHUNK;
			vk_socket_read(self->ch, self->n, self->buf, self->len);
			for (ssize_t i = 0; i < self->n; i++)
				if (self->buf[i] != pattern(self->got + (size_t)i))
					self->ok = 0;
			self->got += (size_t)self->n;
			if ((size_t)self->n < self->len)
				break;
		}
		/* The message ends right after the bytes. */
		vk_socket_read(self->ch, self->n, self->buf, 1);
		if (self->n != 0)
			self->ok = 0;
		vk_socket_readhup(self->ch);
		self->len = (size_t)snprintf(self->out, sizeof(self->out), "bulk %s %zu %s\n",
					     self->in, self->got, self->ok ? "OK" : "BAD");
		vk_write(self->out, self->len);
	} else {
		/* close, crash: the service goes away; what does this side see? */
		snprintf(self->msg, sizeof(self->msg), "%s\n", self->cmd->verb);
		vk_socket_write(self->ch, self->msg, strlen(self->msg));
		vk_socket_hup(self->ch);
		vk_socket_try_readline(self->ch, self->rd, self->in, sizeof(self->in));
		vk_socket_try_write(self->ch, self->wr, "more\n", 5);
		if (self->wr >= 0)
			vk_socket_try_flush(self->ch, self->wr);
		self->len =
		    (size_t)snprintf(self->out, sizeof(self->out), "%s read=%zd write=%zd\n",
				     self->cmd->verb, self->rd, self->wr);
		vk_write(self->out, self->len);
	}
	vk_finally();
	if (self->ch)
		vk_channel_close(self->ch);
	vk_end();
}

static void shard_main(struct vk_thread *that)
{
	struct {
		struct shard_cmd cmd;
		char line[LINE];
		char out[64];
		ssize_t n, rc;
		int len;
	} * self;

	vk_begin();
	for (;;) {
		vk_readline(self->n, self->line, sizeof(self->line) - 1);
		if (self->n == 0)
			break;
		self->line[self->n - (self->line[self->n - 1] == '\n')] = '\0';
		memset(&self->cmd, 0, sizeof(self->cmd));
		if (sscanf(self->line, "%15s %63s %255[^\n]", self->cmd.verb, self->cmd.key,
			   self->cmd.rest) < 2) {
			vk_write_literal("error -22\n");
			continue;
		}
		if (strcmp(self->cmd.verb, "where") == 0) {
			self->len =
			    snprintf(self->out, sizeof(self->out), "me %u owner %u\n", vk_worker(),
				     vk_shard_of(self->cmd.key, strlen(self->cmd.key)));
			vk_write(self->out, (size_t)self->len);
		} else {
			vk_try_call(self->rc, shard_command, &self->cmd);
			if (self->rc < 0) {
				self->len =
				    snprintf(self->out, sizeof(self->out), "error %zd\n", self->rc);
				vk_write(self->out, (size_t)self->len);
			}
		}
		vk_flush();
	}
	vk_finally();
	vk_clear_error();
	vk_end();
}

VK_APP("shard", shard_main, 256 * 1024);
VK_SERVICES({PROBE, probe_main, 256 * 1024, VK_SERVICE_SHARDED});
