/*
 * kv: an in-memory key/value store speaking a subset of the Redis protocol
 * (RESP 2): PING, GET, SET (with NX or XX, GET, and EX, PX, EXAT, PXAT or
 * KEEPTTL), DEL, EXISTS, INCR, EXPIRE, TTL, MGET, MSET, QUIT; anything
 * else gets an error reply. redis-cli and redis-benchmark work against it
 * unchanged.
 *
 * The keys are sharded over the workers: each worker runs one kv service
 * (kv_shard.c, VK_SERVICE_SHARDED) holding the keys that hash to it, in
 * its own isolated heap. A connection, in whichever worker accepted it,
 * parses the commands (kv_resp.c), sends each to the shard owning its key
 * over a channel (kv_wire.h; another worker's shard through the links
 * between workers), and writes the replies back in order. Commands on
 * several keys are split by key and their replies put back together
 * (MGET's array, DEL's and EXISTS's counts, MSET's OK). Pipelined commands
 * go out together: a round sends what the client sent at once, then
 * collects the replies, so one dispatch of the shard serves every
 * connection that sent something.
 *
 * A shard that fails (its process faulted, or its worker died) fails the
 * commands sent to it with an error reply; the connection goes on, and
 * its next command to that shard opens a new channel to the restarted
 * one, which starts empty. The other shards keep their keys.
 *
 * Unless opt.handoff = off, a connection hands its client to its worker's
 * shard (kv.h) and no longer runs; the shard parses the commands, carries
 * out those on its own keys in place and sends the others on as above.
 *
 * Options: opt.max_request (the largest command, default 64k);
 * opt.crash_command = on makes "DEBUG SEGFAULT [key]" fault the shard of
 * the key (or of the connection's worker), for tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "kv_config.h"
#include "kv_resp.h"
#include "kv_shard.h"
#include "kv_wire.h"
#include "vk.h"

#define KV_ARGS 1025	/* MGET and DEL of 1024 keys, MSET of 512 pairs */
#define KV_ENTRIES 1100 /* replies one round may owe */
#define KV_NOTES 4096	/* bytes of replies made here, per round */
/* A bulk reply's head and CRLF, at most ("$" and 20 digits). */
#define KV_REPLY_HEAD 32

/*
 * A connection starts with small buffers inside its frame, next to its
 * send ring and before its receive ring: a pipelined batch of 16 short
 * commands (redis-benchmark -P 16) then touches two pages of its heap.
 * With isolation on, every page a dispatch touches after its heap was
 * opened costs a fault where the hypervisor shadows page tables (about
 * 20 us each on the VM measured), and every resident page makes each
 * mprotect longer; the full-size buffers (about 150 KiB) are allocated
 * the first time a command does not fit, and kept.
 */
#define KV_IN_SMALL 1024
#define KV_ARGS_SMALL 16
#define KV_ENTRIES_SMALL 20
#define KV_NOTES_SMALL 256
/*
 * Replies gathered before they are written to the client: one vk_write() a
 * batch instead of one a reply, 150 instructions a request of 1,168
 * (callgrind, redis-benchmark -P 16).
 */
#define KV_OUT 512
/* Notes one command may make, at most: an error naming it, or PING's echo. */
#define KV_NOTE_MAX 160

/* How an entry's reply is used. */
enum { KV_PASS, KV_SUM, KV_QUIET };

/* One reply the client is owed, in order. */
struct kv_entry {
	const char *key; /* into the input buffer */
	const char *val;
	uint32_t klen;
	uint32_t vlen;
	int64_t arg;
	const char *local; /* the reply, when made here */
	uint32_t local_len;
	uint16_t shard; /* 1-based; 0: answered here */
	uint8_t op;
	uint8_t mode;
	uint8_t last; /* the last of a SUM or QUIET group: its reply follows */
	uint8_t failed;
	uint8_t flags; /* SET's (kv_wire.h) */
};

/* The large arrays a connection takes beside its input buffer (kv_conn()). */
#define KV_BIG_ARRAYS \
	(KV_ARGS * sizeof(struct kv_arg) + KV_ENTRIES * sizeof(struct kv_entry) + KV_NOTES)

/* A round: what one batch of commands owes, and where it stands. */
struct kv_round {
	struct kv_entry *e;
	size_t count;
	size_t nf;	       /* next to forward to its shard */
	size_t nr;	       /* next to reply to the client */
	struct vk_socket **ch; /* per shard, 1-based; NULL: not open */
	size_t *inflight;      /* per shard: request bytes not yet answered */
	int64_t sum;	       /* of a SUM group so far */
	const char *group_err; /* first error of the group, or NULL */
	size_t group_err_len;
	unsigned talking; /* the shard an operation is on; 0: the client */
	int partial;	  /* a reply is half written to the client */
	unsigned failed_shard;
	int client_error;
	size_t out_len;		/* bytes in `out` */
	char out[KV_OUT];	/* replies not yet written to the client */
	size_t req_len;		/* bytes in `req` */
	unsigned req_shard;	/* the shard they go to */
	char *req;		/* KV_OUT bytes: requests not yet written to their shard */
	struct kv_shard *local; /* run in a shard: its keys' commands carried out here */
	unsigned here;		/* that shard's index (1-based) */
	char err[128];		/* a group's error reply, copied */
};

static const char err_shard[] = "-ERR shard unavailable (its service or worker is down)\r\n";
static const char err_syntax[] = "-ERR syntax error\r\n";
static const char err_int[] = "-ERR value is not an integer or out of range\r\n";
static const char err_expire[] = "-ERR invalid expire time in 'set' command\r\n";
static const char err_toobig[] = "-ERR Protocol error: request too large\r\n";

static size_t request_size(const struct kv_entry *e)
{
	return sizeof(struct kv_request) + e->klen + e->vlen;
}

/* Whether entry `e` is carried out here, in the shard that runs the round. */
static int in_place(const struct kv_round *r, const struct kv_entry *e)
{
	return r->local && e->shard == r->here;
}

/*
 * Whether entry `e` may go now: a shard's requests not yet answered stay
 * within the channel's ring, so writing one never waits on a shard that
 * waits for us to read its replies.
 */
static int forwardable(const struct kv_round *r, const struct kv_entry *e)
{
	size_t busy;

	if (!e->shard || e->failed || in_place(r, e))
		return 1;
	busy = r->inflight[e->shard];
	return busy == 0 || busy + request_size(e) <= VK_CHANNEL_RING;
}

/* Add a SUM or QUIET reply (in `buf`) to its group. */
static void group_add(struct kv_round *r, const struct kv_entry *e, const char *buf, size_t len)
{
	int64_t n;
	struct kv_arg a = {buf + 1, len >= 3 ? len - 3 : 0};

	if (len && buf[0] == ':' && e->mode == KV_SUM && kv_resp_int(&a, &n) == 0) {
		r->sum += n;
		return;
	}
	if (len && buf[0] == '+' && e->mode == KV_QUIET)
		return;
	if (r->group_err)
		return;
	if (len > sizeof(r->err) || len == 0 || buf[0] != '-') {
		r->group_err = err_shard;
		r->group_err_len = sizeof(err_shard) - 1;
		return;
	}
	memcpy(r->err, buf, len);
	r->group_err = r->err;
	r->group_err_len = len;
}

/* The request for entry `e`, to its shard or carried out here. */
static void request_of(struct kv_request *req, const struct kv_entry *e)
{
	memset(req, 0, sizeof(*req));
	req->op = e->op;
	req->klen = e->klen;
	req->vlen = e->vlen;
	req->flags = e->flags;
	req->arg = e->arg;
}

/*
 * Gather request `req` of entry `e` for its shard in r->req, which has the
 * room: a round writes a shard its requests at once, not three writes a
 * request (header, key, value; about 160 instructions of libvk each).
 */
static void request_put(struct kv_round *r, const struct kv_request *req, const struct kv_entry *e)
{
	char *at = r->req + r->req_len;

	memcpy(at, req, sizeof(*req));
	if (e->klen)
		memcpy(at + sizeof(*req), e->key, e->klen);
	if (e->vlen)
		memcpy(at + sizeof(*req) + e->klen, e->val, e->vlen);
	r->req_len += request_size(e);
	r->req_shard = e->shard;
}

/*
 * Put `len` bytes at `p` in the round's replies to the client (r->out),
 * written when it is full and when the round ends. A blocking op: in
 * kv_round_run() only.
 */
#define round_put(p, len)                                                                  \
	do {                                                                               \
		self->r->talking = 0;                                                      \
		if (self->r->out_len + (len) > sizeof(self->r->out) && self->r->out_len) { \
			vk_write(self->r->out, self->r->out_len);                          \
			self->r->out_len = 0;                                              \
		}                                                                          \
		if ((len) > sizeof(self->r->out)) {                                        \
			vk_write((p), (len));                                              \
		} else {                                                                   \
			memcpy(self->r->out + self->r->out_len, (p), (len));               \
			self->r->out_len += (len);                                         \
		}                                                                          \
	} while (0)

/*
 * Send the round's requests and write its replies, in order. An error on
 * a shard's channel or on the client ends this coroutine with the culprit
 * noted in the round; the connection (kv_main) deals with it and calls
 * again, from where it stopped.
 */
static void kv_round_run(struct vk_thread *that)
{
	struct {
		struct kv_round *r;
		struct kv_entry *e;
		struct vk_socket *ch;
		struct kv_request req;
		struct iovec iov[2];
		char *out; /* a reply made here in the shard, when larger than buf */
		int64_t now;
		uint32_t len;
		size_t chunk;
		ssize_t n;
		char text[24];
		char buf[128];
	} * self;

	vk_begin();
	self->r = vk_arg();
	while (self->r->nr < self->r->count) {
		while (self->r->nf < self->r->count &&
		       forwardable(self->r, &self->r->e[self->r->nf])) {
			self->e = &self->r->e[self->r->nf];
			if (self->e->shard && !self->e->failed && !in_place(self->r, self->e)) {
				self->r->talking = self->e->shard;
				self->ch = self->r->ch[self->e->shard];
				if (!self->ch) {
					self->ch = vk_channel_open_fn(
					    that, KV_SERVICE, self->e->key, self->e->klen, 0);
					if (!self->ch)
						vk_raise(errno);
					self->r->ch[self->e->shard] = self->ch;
				}
				request_of(&self->req, self->e);
				self->chunk = request_size(self->e);
				if (self->r->req_len && (self->r->req_shard != self->e->shard ||
							 self->r->req_len + self->chunk > KV_OUT)) {
					self->r->talking = self->r->req_shard;
					vk_socket_write(self->r->ch[self->r->req_shard],
							self->r->req, self->r->req_len);
					self->r->req_len = 0;
					self->r->talking = self->e->shard;
				}
				if (self->chunk > KV_OUT) {
					vk_socket_write(self->ch, (const char *)&self->req,
							sizeof(self->req));
					vk_socket_write(self->ch, self->e->key, self->e->klen);
					vk_socket_write(self->ch, self->e->val, self->e->vlen);
				} else {
					request_put(self->r, &self->req, self->e);
				}
				self->r->inflight[self->e->shard] += self->chunk;
			}
			self->r->nf++;
		}
		/* What this round waits for is sent before it waits. */
		if (self->r->req_len) {
			self->r->talking = self->r->req_shard;
			vk_socket_write(self->r->ch[self->r->req_shard], self->r->req,
					self->r->req_len);
			self->r->req_len = 0;
		}
		self->e = &self->r->e[self->r->nr];
		if (!self->e->shard) {
			round_put(self->e->local, self->e->local_len);
		} else if (in_place(self->r, self->e)) {
			/* In the shard: nothing blocks from the store to the reply's copy. */
			self->r->talking = 0;
			request_of(&self->req, self->e);
			self->now = kv_shard_now(that);
			self->out = self->buf;
			self->chunk =
			    kv_shard_execute(self->r->local, &self->req, self->e->key, self->e->val,
					     self->now, self->out, sizeof(self->buf));
			if (self->chunk > sizeof(self->buf)) {
				vk_alloc(self->out, self->chunk);
				self->chunk = kv_shard_execute(self->r->local, &self->req,
							       self->e->key, self->e->val,
							       self->now, self->out, self->chunk);
			}
			if (self->e->mode != KV_PASS)
				group_add(self->r, self->e, self->out + 4, self->chunk - 4);
			else
				round_put(self->out + 4, self->chunk - 4);
			if (self->out != self->buf)
				vk_free(self->out);
			self->out = NULL;
		} else if (self->e->failed) {
			if (self->e->mode != KV_PASS)
				group_add(self->r, self->e, err_shard, sizeof(err_shard) - 1);
			else
				round_put(err_shard, sizeof(err_shard) - 1);
		} else {
			self->r->talking = self->e->shard;
			self->ch = self->r->ch[self->e->shard];
			vk_socket_read(self->ch, self->n, (char *)&self->len, sizeof(self->len));
			if (self->n != (ssize_t)sizeof(self->len))
				vk_raise(EPIPE);
			self->r->inflight[self->e->shard] -= request_size(self->e);
			if (self->e->mode != KV_PASS) {
				if (self->len > sizeof(self->buf))
					vk_raise(EPROTO);
				vk_socket_read(self->ch, self->n, self->buf, self->len);
				if (self->n != (ssize_t)self->len)
					vk_raise(EPIPE);
				group_add(self->r, self->e, self->buf, self->len);
			}
			/* A reply passes from the channel's ring to the client's as it is. */
			self->r->partial = self->e->mode == KV_PASS;
			while (self->e->mode == KV_PASS && self->len) {
				self->r->talking = self->e->shard;
				if (vk_socket_peek_iov(self->ch, self->iov) == 0) {
					vk_socket_await(self->ch, self->n);
					if (self->n == 0)
						vk_raise(EPIPE);
					continue;
				}
				self->chunk = self->iov[0].iov_len < self->len
						  ? self->iov[0].iov_len
						  : self->len;
				round_put(self->iov[0].iov_base, self->chunk);
				vk_socket_consume(that, self->ch, self->chunk);
				self->len -= (uint32_t)self->chunk;
			}
			self->r->partial = 0;
		}
		if (self->e->mode != KV_PASS && self->e->last) {
			self->r->talking = 0;
			if (self->r->group_err) {
				round_put(self->r->group_err, self->r->group_err_len);
			} else if (self->e->mode == KV_SUM) {
				self->n = (ssize_t)kv_resp_format_int(self->text, self->r->sum);
				round_put(self->text, (size_t)self->n);
			} else {
				round_put("+OK\r\n", 5);
			}
			self->r->sum = 0;
			self->r->group_err = NULL;
		}
		self->r->nr++;
	}
	if (self->r->out_len) {
		self->r->talking = 0;
		vk_write(self->r->out, self->r->out_len);
		self->r->out_len = 0;
	}
	vk_finally();
	if (self->out && self->out != self->buf)
		vk_free(self->out);
	if (vk_error()) {
		/* Half a reply sent: the client's stream cannot be mended, it ends. */
		if (self->r->talking && !self->r->partial)
			self->r->failed_shard = self->r->talking;
		else
			self->r->client_error = self->r->partial ? EPIPE : vk_error();
		vk_clear_error();
	}
	vk_end();
}

/* ---- commands into entries ---- */

/* What kv_main keeps for parsing one batch. */
struct kv_batch {
	struct kv_round *r;
	const struct kv_config *config;
	char *notes; /* replies made here */
	size_t notes_len;
	size_t notes_cap;
	size_t entries_cap; /* of r->e */
	unsigned worker;
	unsigned workers;
	int quit;
	int grow; /* a command needs the full-size buffers */
	int big;  /* they are in use */
	char *in; /* the input: in_small, then in_big */
	size_t in_pos;
	struct kv_arg *argv;
	size_t argv_cap;
};

static struct kv_entry *entry_new(struct kv_batch *b)
{
	struct kv_entry *e = &b->r->e[b->r->count++];

	memset(e, 0, sizeof(*e));
	return e;
}

static void reply_here(struct kv_batch *b, const char *text, size_t len)
{
	struct kv_entry *e = entry_new(b);

	e->local = text;
	e->local_len = (uint32_t)len;
}

#define reply_literal(b, s) reply_here((b), (s), sizeof(s) - 1)

/* A reply made here, kept in the batch's notes. */
static void reply_note(struct kv_batch *b, const char *text, size_t len)
{
	char *at = b->notes + b->notes_len;

	memcpy(at, text, len);
	b->notes_len += len;
	reply_here(b, at, len);
}

static void reply_notef(struct kv_batch *b, const char *format, const struct kv_arg *a)
{
	char text[160];
	int n = snprintf(text, sizeof(text), format, (int)(a->len > 64 ? 64 : a->len), a->p);

	reply_note(b, text, n > 0 && (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

static struct kv_entry *to_shard(struct kv_batch *b, struct vk_thread *that, enum kv_op op,
				 const struct kv_arg *key)
{
	struct kv_entry *e = entry_new(b);

	e->op = (uint8_t)op;
	e->key = key->p;
	e->klen = (uint32_t)key->len;
	/* With one worker every key is in shard 1: no hash to take. */
	e->shard = b->workers == 1 ? 1 : (uint16_t)vk_shard_of(key->p, key->len);
	return e;
}

/* SET's flags, as parsed: those the shard takes (KV_SET_*) and the time. */
struct set_flags {
	unsigned flags;
	unsigned time;		    /* 0, or SET_EX .. SET_PXAT */
	const struct kv_arg *value; /* the time's argument */
};

enum { SET_EX = 1, SET_PX, SET_EXAT, SET_PXAT };

/* Which of EX, PX, EXAT and PXAT the word is, or 0. */
static unsigned set_time_of(const struct kv_arg *a)
{
	if (kv_resp_is(a, "EX"))
		return SET_EX;
	if (kv_resp_is(a, "PX"))
		return SET_PX;
	if (kv_resp_is(a, "EXAT"))
		return SET_EXAT;
	return kv_resp_is(a, "PXAT") ? SET_PXAT : 0;
}

/*
 * SET's flags after key and value, as Redis 7 reads them, before any
 * value is: NX or XX, GET, and one kind of time (EX, PX, EXAT or PXAT,
 * with its value; repeated, the last counts) or KEEPTTL. A flag may come
 * again; NX with XX, two kinds of time, a time with KEEPTTL, a time
 * without its value or a word that is no flag: -1, a syntax error.
 */
static int set_flags(const struct kv_arg *argv, size_t argc, struct set_flags *f)
{
	unsigned t;

	memset(f, 0, sizeof(*f));
	for (size_t i = 3; i < argc; i++) {
		const struct kv_arg *a = &argv[i];

		if ((t = set_time_of(a)) != 0) {
			if ((f->time && f->time != t) || (f->flags & KV_SET_KEEPTTL) ||
			    i + 1 == argc)
				return -1;
			f->time = t;
			f->value = &argv[++i];
		} else if (kv_resp_is(a, "NX") && !(f->flags & KV_SET_XX)) {
			f->flags |= KV_SET_NX;
		} else if (kv_resp_is(a, "XX") && !(f->flags & KV_SET_NX)) {
			f->flags |= KV_SET_XX;
		} else if (kv_resp_is(a, "GET")) {
			f->flags |= KV_SET_GET;
		} else if (kv_resp_is(a, "KEEPTTL") && !f->time) {
			f->flags |= KV_SET_KEEPTTL;
		} else {
			return -1;
		}
	}
	return 0;
}

/*
 * SET key value [NX | XX] [GET] [EX s | PX ms | EXAT unix-s | PXAT unix-ms |
 * KEEPTTL]. The time must be a positive integer, and in seconds at most
 * INT64_MAX / 1000; it goes to the shard in milliseconds, relative (the
 * shard adds its clock, refusing a sum past int64) or, with EXAT and PXAT,
 * absolute.
 */
static void cmd_set(struct kv_batch *b, struct vk_thread *that, const struct kv_arg *argv,
		    size_t argc)
{
	struct set_flags f;
	int64_t ms = 0, n;
	int seconds;
	struct kv_entry *e;

	if (set_flags(argv, argc, &f) < 0) {
		reply_literal(b, err_syntax);
		return;
	}
	if (f.time) {
		if (kv_resp_int(f.value, &n) < 0) {
			reply_literal(b, err_int);
			return;
		}
		seconds = f.time == SET_EX || f.time == SET_EXAT;
		if (n <= 0 || (seconds && n > INT64_MAX / 1000)) {
			reply_literal(b, err_expire);
			return;
		}
		ms = seconds ? n * 1000 : n;
		if (f.time == SET_EXAT || f.time == SET_PXAT)
			f.flags |= KV_SET_AT;
	}
	e = to_shard(b, that, KV_SET, &argv[1]);
	e->val = argv[2].p;
	e->vlen = (uint32_t)argv[2].len;
	e->arg = ms;
	e->flags = (uint8_t)f.flags;
}

/* A command on keys 1.. of argv, one request each, put back together by `mode`. */
static void cmd_keys(struct kv_batch *b, struct vk_thread *that, enum kv_op op, int mode,
		     const struct kv_arg *argv, size_t argc)
{
	struct kv_entry *e = NULL;

	if (argc == 2) {
		to_shard(b, that, op, &argv[1]);
		return;
	}
	for (size_t i = 1; i < argc; i++) {
		e = to_shard(b, that, op, &argv[i]);
		e->mode = (uint8_t)mode;
	}
	e->last = 1;
}

static void cmd_mget(struct kv_batch *b, struct vk_thread *that, const struct kv_arg *argv,
		     size_t argc)
{
	char head[24];

	reply_note(b, head, kv_resp_format_head(head, '*', argc - 1));
	for (size_t i = 1; i < argc; i++)
		to_shard(b, that, KV_GET, &argv[i]);
}

static void cmd_mset(struct kv_batch *b, struct vk_thread *that, const struct kv_arg *argv,
		     size_t argc)
{
	struct kv_entry *e = NULL;

	for (size_t i = 1; i + 1 < argc; i += 2) {
		e = to_shard(b, that, KV_SET, &argv[i]);
		e->val = argv[i + 1].p;
		e->vlen = (uint32_t)argv[i + 1].len;
		e->mode = KV_QUIET;
	}
	e->last = 1;
}

/* EXPIRE key seconds, INCR key: a number in the request. */
static void cmd_number(struct kv_batch *b, struct vk_thread *that, enum kv_op op,
		       const struct kv_arg *argv)
{
	int64_t n = 1;
	struct kv_entry *e;

	if (op == KV_EXPIRE) {
		if (kv_resp_int(&argv[2], &n) < 0) {
			reply_literal(b, err_int);
			return;
		}
		if (n > INT64_MAX / 1000 || n < INT64_MIN / 1000) {
			reply_literal(b, "-ERR invalid expire time in 'expire' command\r\n");
			return;
		}
		n *= 1000;
	}
	e = to_shard(b, that, op, &argv[1]);
	e->arg = n;
}

static void cmd_ping(struct kv_batch *b, const struct kv_arg *argv, size_t argc)
{
	char head[24];

	if (argc == 1) {
		reply_literal(b, "+PONG\r\n");
		return;
	}
	if (argv[1].len > 1024) {
		reply_literal(b, err_syntax);
		return;
	}
	reply_note(b, head, kv_resp_format_head(head, '$', argv[1].len));
	reply_note(b, argv[1].p, argv[1].len);
	reply_note(b, "\r\n", 2);
}

static void cmd_debug(struct kv_batch *b, struct vk_thread *that, const struct kv_arg *argv,
		      size_t argc)
{
	struct kv_arg none = {"", 0};
	struct kv_entry *e;

	if (!b->config->crash_command || !kv_resp_is(&argv[1], "SEGFAULT")) {
		reply_literal(b, "-ERR DEBUG is not enabled\r\n");
		return;
	}
	e = to_shard(b, that, KV_CRASH, argc > 2 ? &argv[2] : &none);
	if (argc <= 2)
		e->shard = (uint16_t)b->worker;
}

/* Arguments each command takes: exactly `min` if `max` is 0, else min .. max. */
struct kv_command {
	const char *name;
	size_t len; /* of the name */
	size_t min, max;
	enum {
		C_GET,
		C_SET,
		C_DEL,
		C_EXISTS,
		C_INCR,
		C_EXPIRE,
		C_TTL,
		C_MGET,
		C_MSET,
		C_PING,
		C_QUIT,
		C_DEBUG
	} id;
};

static const struct kv_command commands[] = {
    {"GET", 3, 2, 0, C_GET},	     {"SET", 3, 3, KV_ARGS, C_SET},
    {"DEL", 3, 2, KV_ARGS, C_DEL},   {"EXISTS", 6, 2, KV_ARGS, C_EXISTS},
    {"INCR", 4, 2, 0, C_INCR},	     {"EXPIRE", 6, 3, 0, C_EXPIRE},
    {"TTL", 3, 2, 0, C_TTL},	     {"MGET", 4, 2, KV_ARGS, C_MGET},
    {"MSET", 4, 3, KV_ARGS, C_MSET}, {"PING", 4, 1, 2, C_PING},
    {"QUIT", 4, 1, KV_ARGS, C_QUIT}, {"DEBUG", 5, 2, 3, C_DEBUG},
};

/*
 * The command's table entry, or NULL. Its length and first letter first:
 * a strlen() and a strcmp() chain per command took 150 instructions of
 * 1,461 a request (callgrind, redis-benchmark -P 16).
 */
static const struct kv_command *command_of(const struct kv_arg *name)
{
	char first;

	if (name->len == 0)
		return NULL;
	first = (char)(name->p[0] & ~0x20);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct kv_command *c = &commands[i];

		if (c->len == name->len && c->name[0] == first &&
		    kv_resp_same(name->p, c->name, c->len))
			return c;
	}
	return NULL;
}

/* Redis names the command in lower case, however the client spelt it. */
static void wrong_arity(struct kv_batch *b, const struct kv_command *c)
{
	char lower[8];
	struct kv_arg name = {lower, c->len < sizeof(lower) ? c->len : sizeof(lower)};

	for (size_t i = 0; i < name.len; i++)
		lower[i] = (char)(c->name[i] | 0x20); /* letters only */
	reply_notef(b, "-ERR wrong number of arguments for '%.*s' command\r\n", &name);
}

/* Entries for one parsed command. */
static void command(struct kv_batch *b, struct vk_thread *that, const struct kv_arg *argv,
		    size_t argc)
{
	const struct kv_command *c = command_of(&argv[0]);

	if (!c) {
		reply_notef(b, "-ERR unknown command '%.*s'\r\n", &argv[0]);
		return;
	}
	if (argc < c->min || argc > (c->max ? c->max : c->min) ||
	    (c->id == C_MSET && argc % 2 == 0)) {
		wrong_arity(b, c);
		return;
	}
	switch (c->id) {
	case C_GET:
		to_shard(b, that, KV_GET, &argv[1]);
		break;
	case C_SET:
		cmd_set(b, that, argv, argc);
		break;
	case C_DEL:
		cmd_keys(b, that, KV_DEL, KV_SUM, argv, argc);
		break;
	case C_EXISTS:
		cmd_keys(b, that, KV_EXISTS, KV_SUM, argv, argc);
		break;
	case C_INCR:
		cmd_number(b, that, KV_INCR, argv);
		break;
	case C_EXPIRE:
		cmd_number(b, that, KV_EXPIRE, argv);
		break;
	case C_TTL:
		to_shard(b, that, KV_TTL, &argv[1]);
		break;
	case C_MGET:
		cmd_mget(b, that, argv, argc);
		break;
	case C_MSET:
		cmd_mset(b, that, argv, argc);
		break;
	case C_PING:
		cmd_ping(b, argv, argc);
		break;
	case C_DEBUG:
		cmd_debug(b, that, argv, argc);
		break;
	case C_QUIT:
		reply_literal(b, "+OK\r\n");
		b->quit = 1;
		break;
	}
}

/* Whether the round has room for the command: its entries and the notes it may make. */
static int room_for(const struct kv_batch *b, const struct kv_arg *argv, size_t argc)
{
	size_t notes = KV_NOTE_MAX;

	if (argc == 2 && argv[1].len <= 1024 && kv_resp_is(&argv[0], "PING"))
		notes += argv[1].len;
	return b->r->count + argc + 1 <= b->entries_cap && b->notes_len + notes <= b->notes_cap;
}

/* ---- the connection ---- */

/* A shard failed: what it owed fails; its channel is closed, to be opened again. */
static void shard_failed(struct vk_thread *that, struct kv_round *r, unsigned shard)
{
	for (size_t i = r->nr; i < r->count; i++)
		if (r->e[i].shard == shard)
			r->e[i].failed = 1;
	vk_channel_close(r->ch[shard]);
	r->inflight[shard] = 0;
	if (r->req_shard == shard)
		r->req_len = 0;
}

/*
 * Move to the full-size buffers (when the small ones in the frame did not
 * hold a command), keeping the bytes not parsed yet. Only between rounds:
 * entries point into the input.
 */
static void use_big(struct kv_batch *b, struct kv_arg *argv, struct kv_entry *e, char *notes,
		    char *in, size_t in_len)
{
	memcpy(in, b->in + b->in_pos, in_len);
	b->in = in;
	b->in_pos = 0;
	b->argv = argv;
	b->argv_cap = KV_ARGS;
	b->r->e = e;
	b->entries_cap = KV_ENTRIES;
	b->notes = notes;
	b->notes_cap = KV_NOTES;
	b->big = 1;
}

void kv_conn(struct vk_thread *that)
{
	struct {
		const struct kv_conn_arg *arg;
		struct kv_round r;
		struct kv_batch b;
		size_t in_len, cap, argc, i;
		ssize_t n;
		const char *error;
		struct kv_entry *e_big;
		struct kv_arg *argv_big;
		char *in_big, *notes_big;
		struct kv_arg argv_small[KV_ARGS_SMALL];
		struct kv_entry e_small[KV_ENTRIES_SMALL];
		char notes_small[KV_NOTES_SMALL];
		char in_small[KV_IN_SMALL];
	} * self;

	vk_begin();
	self->arg = vk_arg();
	self->b.config = self->arg->config;
	self->r.local = self->arg->shard;
	self->b.worker = vk_worker();
	self->b.workers = vk_workers();
	self->r.here = self->r.local ? self->b.worker : 0;
	self->b.r = &self->r;
	self->b.in = self->in_small;
	self->cap = KV_IN_SMALL;
	self->b.argv = self->argv_small;
	self->b.argv_cap = KV_ARGS_SMALL;
	self->r.e = self->e_small;
	self->b.entries_cap = KV_ENTRIES_SMALL;
	self->b.notes = self->notes_small;
	self->b.notes_cap = KV_NOTES_SMALL;
	if (!self->r.local || self->b.workers > 1) {
		vk_calloc(self->r.ch, self->b.workers + 1);
		vk_calloc(self->r.inflight, self->b.workers + 1);
		/* Only where requests go to shards: 512 bytes less a client with one worker. */
		vk_alloc(self->r.req, KV_OUT);
	}
	while (!self->b.quit) {
		/* Parse what came, as many commands as a round holds. */
		self->r.count = self->r.nf = self->r.nr = 0;
		self->b.notes_len = 0;
		for (;;) {
			self->n = kv_resp_parse(self->b.in + self->b.in_pos,
						self->in_len - self->b.in_pos, self->b.argv,
						self->b.argv_cap, &self->argc, &self->error);
			if (self->n < 0 && !self->b.big) {
				/* Perhaps only more arguments than the small array holds. */
				self->b.grow = 1;
				self->n = 0;
			}
			/* The error's reply needs an entry: the round goes first. */
			if (self->n < 0 && self->r.count == self->b.entries_cap)
				self->n = 0;
			if (self->n <= 0)
				break;
			if (!room_for(&self->b, self->b.argv, self->argc)) {
				self->b.grow = self->r.count == 0;
				break;
			}
			self->b.in_pos += (size_t)self->n;
			if (self->argc)
				command(&self->b, that, self->b.argv, self->argc);
			if (self->b.quit)
				break;
		}
		if (self->b.grow) {
			self->b.grow = 0;
			if (self->r.count == 0 && !self->b.big) {
				vk_alloc(self->in_big, self->b.config->max_request);
				vk_alloc(self->argv_big, KV_ARGS);
				vk_alloc(self->e_big, KV_ENTRIES);
				vk_alloc(self->notes_big, KV_NOTES);
				self->in_len -= self->b.in_pos;
				use_big(&self->b, self->argv_big, self->e_big, self->notes_big,
					self->in_big, self->in_len);
				self->cap = self->b.config->max_request;
				continue;
			}
		}
		if (self->n < 0) {
			/* The stream cannot be followed further: say why and close. */
			reply_here(&self->b, self->error, strlen(self->error));
			self->b.quit = 1;
		}
		if (self->r.count == 0) {
			/* Nothing whole: make room and read more. */
			memmove(self->b.in, self->b.in + self->b.in_pos,
				self->in_len - self->b.in_pos);
			self->in_len -= self->b.in_pos;
			self->b.in_pos = 0;
			if (self->in_len == self->cap) {
				if (!self->b.big) {
					/* A command larger than the small input: the next turn
					 * grows. */
					self->b.grow = 1;
					continue;
				}
				vk_write(err_toobig, sizeof(err_toobig) - 1);
				break;
			}
			/*
			 * Between commands a drain may let the connection go
			 * (vk_await_idle); in the middle of one (a part held)
			 * it waits for the rest, as for a command in flight.
			 */
			if (self->in_len == 0 &&
			    vk_socket_peek_iov(that->socket, (struct iovec[2]){{0}}) == 0) {
				vk_await_idle(self->n);
				if (self->n == 0)
					break;
			}
			vk_read_some(self->n, self->b.in + self->in_len, self->cap - self->in_len);
			if (self->n == 0)
				break;
			self->in_len += (size_t)self->n;
			continue;
		}
		while (self->r.nr < self->r.count) {
			self->r.failed_shard = 0;
			self->r.client_error = 0;
			vk_call(kv_round_run, &self->r);
			if (self->r.client_error)
				vk_raise(self->r.client_error);
			if (self->r.failed_shard)
				shard_failed(that, &self->r, self->r.failed_shard);
		}
	}
	vk_flush();
	vk_finally();
	/* A client that went away, or timed out, is no error of the app's. */
	vk_clear_error();
	/* In the shard's heap, which outlives the client, what it took goes back. */
	if (self->in_big) {
		vk_free(self->notes_big);
		vk_free(self->e_big);
		vk_free(self->argv_big);
		vk_free(self->in_big);
	}
	if (self->r.ch) {
		/* In a shard, which outlives the client, its channels close with it. */
		for (self->i = 1; self->i <= self->b.workers; self->i++)
			if (self->r.ch[self->i])
				vk_channel_close(self->r.ch[self->i]);
		vk_free(self->r.req);
		vk_free(self->r.inflight);
		vk_free(self->r.ch);
	}
	vk_end();
}

/*
 * A connection: its client is handed to its worker's shard (kv.h), or with
 * opt.handoff = off it runs the loop itself.
 */
static void kv_main(struct vk_thread *that)
{
	struct {
		struct kv_conn_arg conn;
		struct vk_socket *shard;
		struct kv_request req;
		int rc;
	} * self;

	vk_begin();
	self->conn.config = vk_arg();
	if (!self->conn.config->handoff) {
		vk_call(kv_conn, &self->conn);
	} else {
		vk_channel_open(self->shard, KV_SERVICE);
		self->req.op = KV_RESP;
		vk_socket_write(self->shard, (const char *)&self->req, sizeof(self->req));
		vk_channel_handoff(that->socket, self->shard, self->rc);
	}
	vk_finally();
	/* A client that went away, or timed out, is no error of the app's. */
	vk_clear_error();
	vk_end();
}

/* opt.KEY = a boolean (default `dflt`): 0, or -1 with a line naming the key. */
static int option_switch(const struct vk_app_context *context, const char *key, int dflt, int *out)
{
	const char *text = context->option(context, key);

	*out = dflt;
	if (!text || vk_parse_bool(text, out) == 0)
		return 0;
	fprintf(stderr, "kv: app %s: opt.%s: expected " VK_PARSE_BOOL_EXPECTED ", got '%s'\n",
		context->name, key, text);
	vk_app_refuse(context, key);
	return -1;
}

/* opt.max_request, 1k to 64M (default 64k): 0, or -1 with a line naming the key. */
static int option_max_request(const struct vk_app_context *context, size_t *out)
{
	const char *text = context->option(context, "max_request");
	size_t size = 64 * 1024;

	if (text && (vk_parse_size(text, &size) < 0 || size < 1024 || size > (64u << 20))) {
		fprintf(stderr,
			"kv: app %s: opt.max_request: expected a size from 1k to 64M, got '%s'\n",
			context->name, text);
		vk_app_refuse(context, "max_request");
		return -1;
	}
	*out = size;
	return 0;
}

/*
 * opt.max_request, set or its default, when the connection keeps its
 * client (opt.handoff = off), against each connection's heap (ABI 2.13):
 * a command past the small buffers goes on in a buffer of max_request and
 * the large arrays (kv_main()), which the rings must leave free; a default
 * that does not fit is refused too. With handoff on they come out of the
 * shard's heap instead.
 */
static int heap_check(const struct vk_app_context *context, const struct kv_config *config)
{
	size_t need = config->max_request + KV_BIG_ARRAYS;

	if (!context->heap_size || config->handoff || need <= context->heap_room)
		return 0;
	fprintf(stderr,
		"kv: app %s: opt.max_request: %zu bytes%s and %zu of arrays do not fit each "
		"connection's heap, which has %zu (heap %zu less two rings of %zu and 8k) "
		"with opt.handoff off: raise heap to %zu or set opt.max_request lower\n",
		context->name, config->max_request,
		context->option(context, "max_request") ? "" : " (the default)",
		need - config->max_request, context->heap_room, context->heap_size,
		context->ring_size, context->heap_size - context->heap_room + need);
	vk_app_refuse(context, "max_request");
	return -1;
}

/*
 * opt.max_request, set or its default, against the shard's heap: it holds
 * a command of max_request (with handoff on, the client's buffer and large
 * arrays; with it off, a channel's request) and a reply as large (a GET of
 * a value that size, or SET ... GET's old one) at once, in what it keeps
 * for one client or channel (kv_shard_room()): 8M with handoff on passed
 * vkd -t and then closed the client that read back a value that large.
 */
static int shard_check(const struct vk_app_context *context, const struct kv_config *config)
{
	size_t arrays = config->handoff ? KV_BIG_ARRAYS : 0;
	size_t need = 2 * config->max_request + arrays + KV_REPLY_HEAD;
	size_t room = kv_shard_room(config);
	char also[48] = "";

	if (need <= room)
		return 0;
	if (arrays)
		snprintf(also, sizeof(also), ", and %zu of arrays,", arrays);
	fprintf(stderr,
		"kv: app %s: opt.max_request: a command of %zu bytes%s and a reply as large "
		"do not fit the %zu bytes each shard keeps for %s with opt.handoff %s: lower "
		"opt.max_request\n",
		context->name, config->max_request, also, room,
		config->handoff ? "a client" : "a connection's requests",
		config->handoff ? "on" : "off");
	vk_app_refuse(context, "max_request");
	return -1;
}

static void *kv_init(const struct vk_app_context *context, int *error)
{
	struct kv_config *config = calloc(1, sizeof(*config));

	if (!config) {
		*error = ENOMEM;
		return NULL;
	}
	if (option_max_request(context, &config->max_request) < 0 ||
	    option_switch(context, "crash_command", 0, &config->crash_command) < 0 ||
	    option_switch(context, "handoff", 1, &config->handoff) < 0 ||
	    heap_check(context, config) < 0 || shard_check(context, config) < 0) {
		free(config);
		*error = EINVAL;
		return NULL;
	}
	return config;
}

static void kv_fini(void *state)
{
	free(state);
}

VK_APP_FULL("kv", kv_main, 512 * 1024, kv_init, kv_fini);
VK_SERVICES({KV_SERVICE, kv_shard_main, KV_SHARD_HEAP, VK_SERVICE_SHARDED});
