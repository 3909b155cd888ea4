#include "vk_future.h"

#include "vk_task.h"

int vk_future_send_begin(struct vk_thread *that, struct vk_thread *to, intptr_t message)
{
	struct vk_task *sender = vk_task_of(that);
	struct vk_task *receiver = vk_task_of(to);

	/* An ended coroutine takes nothing: waiting would last until a timeout. */
	if (to->status == VK_THREAD_DONE)
		return -EPIPE;
	if (receiver->receiving) {
		to->message = message;
		to->message_from = that;
		vk_task_wake(receiver, 0);
		return 0;
	}
	/* Nobody is listening yet: queue up and wait to be taken. */
	that->message = message;
	sender->sending_to = receiver;
	sender->send_next = NULL;
	if (!receiver->senders_head)
		receiver->senders_tail = &receiver->senders_head;
	*receiver->senders_tail = sender;
	receiver->senders_tail = &sender->send_next;
	vk_task_block(sender, NULL, VK_WAIT_MESSAGE);
	return 1;
}

int vk_future_receive_begin(struct vk_thread *that)
{
	struct vk_task *receiver = vk_task_of(that);
	struct vk_task *sender = receiver->senders_head;

	if (!sender) {
		receiver->receiving = 1;
		vk_task_block(receiver, NULL, VK_WAIT_MESSAGE);
		return 1;
	}
	receiver->senders_head = sender->send_next;
	if (!receiver->senders_head)
		receiver->senders_tail = &receiver->senders_head;
	sender->sending_to = NULL;
	sender->send_next = NULL;
	that->message = sender->thread.message;
	that->message_from = &sender->thread;
	/* A requester keeps waiting, for the response. */
	if (sender->awaiting_reply)
		vk_task_await_reply(sender, receiver);
	else
		vk_task_wake(sender, 0);
	return 0;
}

int vk_future_request_begin(struct vk_thread *that, struct vk_thread *to, intptr_t message)
{
	struct vk_task *requester = vk_task_of(that);
	int rc;

	requester->awaiting_reply = 1;
	requester->request_to = vk_task_of(to);
	rc = vk_future_send_begin(that, to, message);
	if (rc < 0) {
		requester->awaiting_reply = 0;
		return rc;
	}
	if (rc == 0)
		vk_task_block(requester, NULL, VK_WAIT_MESSAGE);
	return 1;
}

void vk_future_respond(struct vk_thread *that, struct vk_thread *to, intptr_t message)
{
	struct vk_task *requester = vk_task_of(to);

	/* A late answer to an earlier request that timed out is not this one's. */
	if (!requester->awaiting_reply || requester->request_to != vk_task_of(that))
		return;
	to->message = message;
	to->message_from = that;
	vk_task_wake(requester, 0);
}
