#include "vk_future.h"

#include "vk_proc.h"

int vk_future_send_begin(struct vk_thread *that, struct vk_thread *to, intptr_t message)
{
	if (to->receiving) {
		to->message = message;
		to->message_from = that;
		vk_thread_wake(to, 0);
		return 0;
	}
	/* Nobody is listening yet: queue up and wait to be taken. */
	that->message = message;
	that->sending_to = to;
	that->send_next = NULL;
	if (!to->senders_head)
		to->senders_tail = &to->senders_head;
	*to->senders_tail = that;
	to->senders_tail = &that->send_next;
	vk_thread_block(that, NULL);
	return 1;
}

int vk_future_receive_begin(struct vk_thread *that)
{
	struct vk_thread *sender = that->senders_head;

	if (!sender) {
		that->receiving = 1;
		vk_thread_block(that, NULL);
		return 1;
	}
	that->senders_head = sender->send_next;
	if (!that->senders_head)
		that->senders_tail = &that->senders_head;
	sender->sending_to = NULL;
	sender->send_next = NULL;
	that->message = sender->message;
	that->message_from = sender;
	/* A requester keeps waiting, for the response. */
	if (!sender->awaiting_reply)
		vk_thread_wake(sender, 0);
	return 0;
}

void vk_future_request_begin(struct vk_thread *that, struct vk_thread *to, intptr_t message)
{
	that->awaiting_reply = 1;
	that->request_to = to;
	if (!vk_future_send_begin(that, to, message))
		vk_thread_block(that, NULL);
}

void vk_future_respond(struct vk_thread *that, struct vk_thread *to, intptr_t message)
{
	/* A late answer to an earlier request that timed out is not this one's. */
	if (!to->awaiting_reply || to->request_to != that)
		return;
	to->awaiting_reply = 0;
	to->message = message;
	to->message_from = that;
	vk_thread_wake(to, 0);
}
