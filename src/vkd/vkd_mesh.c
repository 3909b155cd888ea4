/*
 * vkd_mesh: links between workers; see vkd_mesh.h.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vkd_mesh.h"

int vkd_mesh_control(int *master_end, int *worker_end)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	*master_end = sv[0];
	*worker_end = sv[1];
	return 0;
}

/* One message: the index of the worker at the far end, and the descriptor. */
static int send_link(int ctl, unsigned peer, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	uint32_t index = peer;
	struct iovec iov = {.iov_base = &index, .iov_len = sizeof(index)};
	struct msghdr msg = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = control.buf,
	    .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	memset(control.buf, 0, sizeof(control.buf));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	do
		n = sendmsg(ctl, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(index) ? 0 : -1;
}

int vkd_mesh_link(int a_ctl, unsigned a, int b_ctl, unsigned b)
{
	int sv[2];
	int rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	rc = send_link(a_ctl, b, sv[0]);
	if (rc == 0)
		rc = send_link(b_ctl, a, sv[1]);
	/* Sent: the receivers hold the halves now (or nobody, and the pair is gone). */
	close(sv[0]);
	close(sv[1]);
	return rc;
}

/* Close every descriptor a message brought. */
static void close_passed(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

int vkd_mesh_receive(int ctl, void (*adopt)(void *ctx, unsigned index, int fd), void *ctx)
{
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} control;
		uint32_t index;
		struct iovec iov = {.iov_base = &index, .iov_len = sizeof(index)};
		struct msghdr msg = {
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		    .msg_control = control.buf,
		    .msg_controllen = sizeof(control.buf),
		};
		struct cmsghdr *cmsg;
		ssize_t n = recvmsg(ctl, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		int fd;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		if (n == 0)
			return -1;
		cmsg = CMSG_FIRSTHDR(&msg);
		if (n != (ssize_t)sizeof(index) || (msg.msg_flags & MSG_CTRUNC) || !cmsg ||
		    cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
			close_passed(&msg);
			continue;
		}
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
		adopt(ctx, index, fd);
	}
}
