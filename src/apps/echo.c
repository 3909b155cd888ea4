/*
 * echo: writes every line back as it was read, until the client closes.
 * A line longer than the buffer is echoed in pieces, so any length works.
 */
#include "vk_app.h"
#include "vk_socket.h"

static void echo_main(struct vk_thread *that)
{
	struct {
		struct iovec held[2];
		ssize_t n;
		char line[1024];
	} * self;

	vk_begin();
	for (;;) {
		/* Between lines a drain may let the connection go (vk_await_idle). */
		if (vk_socket_peek_iov(that->socket, self->held) == 0) {
			vk_await_idle(self->n);
			if (self->n == 0)
				break;
		}
		vk_readline(self->n, self->line, sizeof(self->line));
		if (self->n == 0)
			break;
		vk_write(self->line, (size_t)self->n);
	}
	vk_finally();
	/* A reset or a timeout ends the connection; neither is the app's fault. */
	vk_clear_error();
	vk_end();
}

VK_APP("echo", echo_main, 64 * 1024);
