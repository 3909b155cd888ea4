/*
 * vk_http_conn: an HTTP/1.1 connection, owned by the library.
 *
 * vk_http_serve() (vk_http_app.h) is the main coroutine of each connection
 * of an HTTP app. Per request: read the head as it arrives, parsing it out
 * of the receive ring into a 512-byte buffer in the coroutine's own state
 * (the connection's hot page) and, when it outgrows that, into one of
 * opt.max_head bytes on the heap, so the ring never has to hold a whole
 * head; route it; run the route's handler in place (vk_inplace.h); finish
 * what the handler left (a 500 when it did not answer, the last chunk of
 * a streamed answer); and go on with the next request while the
 * connection may carry one. Answers queue in the send ring in order and
 * leave in one writev per batch. Errors the client caused get their
 * status, Connection: close, and a lingering close.
 */
#ifndef VK_HTTP_CONN_H
#define VK_HTTP_CONN_H

#include "vk_internal.h"

/*
 * A handler's state (its self) up to this size lives in a frame kept with
 * the connection's own (vk_inplace.h): handlers allocate nothing per
 * request, and touch no page past the receive ring, which would stay
 * resident for the connection's life (4 KiB more per idle connection,
 * measured). Larger states go on the heap.
 */
#define VK_HTTP_FRAME 128

/* Heads up to this size are parsed in the connection's own state. */
#define VK_HTTP_SMALL_HEAD 512

/* After an error answer, how long in all and how much to read before closing. */
#define VK_HTTP_LINGER_MS 2000
#define VK_HTTP_LINGER_BYTES (256 * 1024)

#endif
