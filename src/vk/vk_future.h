/*
 * vk_future: messages between coroutines of one micro-process.
 *
 * They cost no system call and no protection change: a message is a word
 * handed from one coroutine to another, and the receiver runs next in the
 * same dispatch. Send is a rendezvous: the sender waits until the receiver
 * has taken the message. A request waits for the receiver's response.
 * All of them honour vk_set_timeout().
 */
#ifndef VK_FUTURE_H
#define VK_FUTURE_H

#include <stdint.h>

#include "vk_state.h"
#include "vk_api.h"

VK_API_BEGIN

/* Internal steps: 0 done, 1 when the caller must block, or -errno. */
int vk_future_send_begin(struct vk_thread *that, struct vk_thread *to, intptr_t message);
int vk_future_receive_begin(struct vk_thread *that);
int vk_future_request_begin(struct vk_thread *that, struct vk_thread *to, intptr_t message);
void vk_future_respond(struct vk_thread *that, struct vk_thread *to, intptr_t message);

/*
 * Hand `msg` (a pointer or integer) to coroutine `to` (a handle from
 * vk_spawn(), not yet joined); wait until taken. Raises EPIPE if `to` has
 * ended or ends without taking it.
 */
#define vk_send(to, msg)                                                       \
	do {                                                                   \
		int vk_s_ = vk_future_send_begin(that, (to), (intptr_t)(msg)); \
		if (vk_s_ < 0)                                                 \
			vk_raise(-vk_s_);                                      \
		if (vk_s_)                                                     \
			vk_wait_();                                            \
	} while (0)

/* vk_send() with the error in `rc` (0 or -errno; vk_state.h, "try"). */
#define vk_try_send(rc, to, msg)                                               \
	do {                                                                   \
		int vk_s_ = vk_future_send_begin(that, (to), (intptr_t)(msg)); \
		(rc) = vk_s_ < 0 ? vk_s_ : 0;                                  \
		if (vk_s_ <= 0)                                                \
			break;                                                 \
		vk_wait_try_(rc);                                              \
	} while (0)

/* Wait for a message; `msg` gets it and vk_sender() its sender. */
#define vk_receive(msg)                                 \
	do {                                            \
		if (vk_future_receive_begin(that))      \
			vk_wait_();                     \
		(msg) = (__typeof__(msg))that->message; \
	} while (0)

/* Who sent the message last received. */
#define vk_sender() (that->message_from)

/* vk_receive() with the error (a timeout) in `rc` (0 or -errno). */
#define vk_try_receive(rc, msg)                         \
	do {                                            \
		(rc) = 0;                               \
		if (vk_future_receive_begin(that)) {    \
			vk_wait_try_(rc);               \
		}                                       \
		(msg) = (__typeof__(msg))that->message; \
	} while (0)

/*
 * Send `msg` to `to` and wait for its vk_respond(); `reply` gets the
 * answer. Raises EPIPE if `to` has ended, or ends before it responds.
 */
#define vk_request(to, msg, reply)                                                \
	do {                                                                      \
		int vk_q_ = vk_future_request_begin(that, (to), (intptr_t)(msg)); \
		if (vk_q_ < 0)                                                    \
			vk_raise(-vk_q_);                                         \
		vk_wait_();                                                       \
		(reply) = (__typeof__(reply))that->message;                       \
	} while (0)

/* vk_request() with the error in `rc` (0 or -errno); `reply` is set on success only. */
#define vk_try_request(rc, to, msg, reply)                                        \
	do {                                                                      \
		int vk_q_ = vk_future_request_begin(that, (to), (intptr_t)(msg)); \
		(rc) = vk_q_ < 0 ? vk_q_ : 0;                                     \
		if (vk_q_ < 0)                                                    \
			break;                                                    \
		vk_wait_try_(rc);                                                 \
		(reply) = (__typeof__(reply))that->message;                       \
	} while (0)

/*
 * Answer a coroutine blocked in a vk_request() made to this one; never
 * blocks. An answer to a request that is over (timed out), or that went
 * to another coroutine, is dropped.
 */
#define vk_respond(to, reply) vk_future_respond(that, (to), (intptr_t)(reply))

VK_API_END

#endif
