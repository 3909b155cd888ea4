/*
 * vk_http_exchange: one request and its answer, as a handler sees them.
 *
 * A handler is a coroutine (vk(3)) that the library runs once per request
 * of a route (vk_http_route.h); its vk_arg() is the exchange, which the
 * macros here and in vk_http_reply.h and vk_http_body.h read:
 *
 *	static void get_user(struct vk_thread *that)
 *	{
 *		struct {
 *			char out[64];
 *			int n;
 *		} *self;
 *
 *		vk_begin();
 *		self->n = snprintf(self->out, sizeof(self->out), "user %s\n",
 *				   vk_http_param("id"));
 *		vk_http_reply(200, "text/plain", self->out, (size_t)self->n);
 *		vk_end();
 *	}
 *
 * The strings these return live in the connection's head buffer until the
 * handler ends: copy what must outlive it. A coroutine the handler starts
 * may use these macros too when given vk_arg() as its own argument, but
 * only one coroutine may read the body or write the answer at a time.
 */
#ifndef VK_HTTP_EXCHANGE_H
#define VK_HTTP_EXCHANGE_H

#include <stdint.h>

#include "vk_http.h"
#include "vk_state.h"
#include "vk_api.h"

VK_API_BEGIN

struct vk_http_exchange;

/* The exchange of a handler (its vk_arg()), or NULL for another coroutine. */
struct vk_http_exchange *vk_http_exchange_of(const struct vk_thread *that);

enum vk_http_method vk_http_exchange_method(const struct vk_http_exchange *ex);
const char *vk_http_exchange_path(const struct vk_http_exchange *ex);
const char *vk_http_exchange_query(const struct vk_http_exchange *ex);
const char *vk_http_exchange_param(const struct vk_http_exchange *ex, const char *name);
const char *vk_http_exchange_header(const struct vk_http_exchange *ex, const char *name);
const struct vk_http_request *vk_http_exchange_head(const struct vk_http_exchange *ex);
int64_t vk_http_exchange_body_length(const struct vk_http_exchange *ex);
void *vk_http_exchange_app_state(const struct vk_http_exchange *ex);
/* Internal, for the blocking macros: an operation starts (not one resuming). */
void vk_http_exchange_begin_op(struct vk_http_exchange *ex);

/* The method (VK_HTTP_GET ...); a HEAD request says VK_HTTP_HEAD. */
#define vk_http_method() vk_http_exchange_method(vk_http_exchange_of(that))

/* The path as sent, without the query: "/users/42". */
#define vk_http_path() vk_http_exchange_path(vk_http_exchange_of(that))

/* The query as sent, without its '?': "a=1&b=2", "" when none. */
#define vk_http_query() vk_http_exchange_query(vk_http_exchange_of(that))

/*
 * The route's parameter `name` ("id" for ":id", "*" for the tail),
 * percent-decoded, or NULL when the route has none of that name. A value
 * that would decode to a NUL or has a bad escape never reaches a handler:
 * the request gets 400.
 */
#define vk_http_param(name) vk_http_exchange_param(vk_http_exchange_of(that), (name))

/* The first request header field called `name` (any case), or NULL. */
#define vk_http_get_header(name) vk_http_exchange_header(vk_http_exchange_of(that), (name))

/* The whole parsed head (vk_http.h): version, every field, framing. */
#define vk_http_head() vk_http_exchange_head(vk_http_exchange_of(that))

/* The body's length: 0 when none, -1 when chunked (not known ahead). */
#define vk_http_body_length() vk_http_exchange_body_length(vk_http_exchange_of(that))

/* What the app's init hook returned (VK_HTTP_APP_FULL), in this worker. */
#define vk_http_app_state() vk_http_exchange_app_state(vk_http_exchange_of(that))

VK_API_END

#endif
