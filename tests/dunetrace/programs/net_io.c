/* net_io.c - the socket and descriptor calls whose arguments go both ways
 * (a length the kernel rewrites, select's sets) and messages: socketpair,
 * sendmsg/recvmsg with a descriptor passed, sendto/recvfrom with addresses, a
 * listening socket's accept, getsockname/getpeername/getsockopt, select and
 * pselect6 with timeouts, statfs/fstatfs. Exit 0 when every call did what it
 * should. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(const char *what) {
  perror(what);
  return 1;
}

int main(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return fail("socketpair");

  /* A message with a descriptor in it. */
  char data[] = "hello";
  struct iovec iov = {data, 5};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.buf;
  m.msg_controllen = sizeof ctl.buf;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  int passed = 0;
  memcpy(CMSG_DATA(cm), &passed, sizeof passed);
  if (sendmsg(sv[0], &m, MSG_NOSIGNAL) != 5) return fail("sendmsg");
  char in[16] = {0};
  struct iovec riov = {in, sizeof in};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } rctl;
  struct msghdr r = {0};
  r.msg_iov = &riov;
  r.msg_iovlen = 1;
  r.msg_control = rctl.buf;
  r.msg_controllen = sizeof rctl.buf;
  if (recvmsg(sv[1], &r, MSG_CMSG_CLOEXEC) != 5) return fail("recvmsg");
  int got;
  memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&r)), sizeof got);
  close(got);

  /* select and pselect6: one ready, one timing out. */
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(sv[1], &rd);
  if (write(sv[0], "x", 1) != 1) return fail("write");
  struct timeval tv = {5, 0};
  if (syscall(SYS_select, sv[1] + 1, &rd, NULL, NULL, &tv) != 1) return fail("select");
  FD_ZERO(&rd);
  FD_SET(sv[0], &rd);
  struct timeval tv0 = {0, 1000};
  if (syscall(SYS_select, sv[0] + 1, &rd, NULL, NULL, &tv0) != 0) return fail("select timeout");
  fd_set wr;
  FD_ZERO(&wr);
  FD_SET(sv[0], &wr);
  FD_SET(sv[1], &wr);
  struct timespec ts = {1, 0};
  if (syscall(SYS_pselect6, sv[1] + 1, NULL, &wr, NULL, &ts, NULL) != 2) return fail("pselect6");

  /* Datagrams with addresses: sendto and recvfrom, an in-out length. */
  int d1 = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), d2 = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a1 = {AF_UNIX, "\0net_io_a"}, a2 = {AF_UNIX, "\0net_io_b"};
  socklen_t l1 = offsetof(struct sockaddr_un, sun_path) + 9;
  if (bind(d1, (struct sockaddr *)&a1, l1) != 0 || bind(d2, (struct sockaddr *)&a2, l1) != 0) return fail("bind");
  if (sendto(d1, "ping", 4, 0, (struct sockaddr *)&a2, l1) != 4) return fail("sendto");
  struct sockaddr_un from;
  socklen_t fl = sizeof from;
  if (recvfrom(d2, in, sizeof in, 0, (struct sockaddr *)&from, &fl) != 4) return fail("recvfrom");
  struct sockaddr_un me;
  socklen_t ml = sizeof me;
  if (getsockname(d1, (struct sockaddr *)&me, &ml) != 0) return fail("getsockname");
  int type = 0;
  socklen_t tl = sizeof type;
  if (getsockopt(d1, SOL_SOCKET, SO_TYPE, &type, &tl) != 0) return fail("getsockopt");

  /* A listening socket: accept4 gets the peer's (unnamed) address. */
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un la = {AF_UNIX, "\0net_io_listen"};
  socklen_t ll = offsetof(struct sockaddr_un, sun_path) + 14;
  if (bind(ls, (struct sockaddr *)&la, ll) != 0 || listen(ls, 4) != 0) return fail("listen");
  int cs = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(cs, (struct sockaddr *)&la, ll) != 0) return fail("connect");
  struct sockaddr_un pa;
  socklen_t pl = sizeof pa;
  int as = accept4(ls, (struct sockaddr *)&pa, &pl, SOCK_CLOEXEC);
  if (as < 0) return fail("accept4");
  struct sockaddr_un pn;
  socklen_t pnl = sizeof pn;
  if (getpeername(cs, (struct sockaddr *)&pn, &pnl) != 0) return fail("getpeername");

  struct statfs sf;
  if (statfs("/", &sf) != 0 || fstatfs(sv[0], &sf) != 0) return fail("statfs");
  return 0;
}
