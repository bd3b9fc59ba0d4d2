/* ipc_misc.c - System V and POSIX IPC (shared memory, semaphores, message
 * queues, mq_*), and calls of the rest of the surface a tracer meets: pipes
 * spliced and teed, fallocate, inotify, timerfd, sched_yield, times, getcpu,
 * personality, getgroups, capget, membarrier. Exit 0 when every call did what it
 * should. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <mqueue.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/times.h>
#include <unistd.h>

static int fail(const char *what) {
  perror(what);
  return 1;
}

int main(void) {
  int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  if (shm < 0) return fail("shmget");
  char *p = shmat(shm, NULL, 0);
  if (p == (void *)-1) return fail("shmat");
  p[0] = 1;
  if (shmdt(p) != 0 || shmctl(shm, IPC_RMID, NULL) != 0) return fail("shmdt");

  int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
  if (sem < 0) return fail("semget");
  struct sembuf up = {0, 1, 0};
  if (semop(sem, &up, 1) != 0 || semctl(sem, 0, IPC_RMID) != 0) return fail("semop");

  int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (q < 0) return fail("msgget");
  struct {
    long type;
    char text[8];
  } m = {1, "hi"}, r;
  if (msgsnd(q, &m, 3, 0) != 0 || msgrcv(q, &r, sizeof r.text, 0, IPC_NOWAIT) != 3) return fail("msgsnd");
  if (msgctl(q, IPC_RMID, NULL) != 0) return fail("msgctl");

  struct mq_attr attr = {0, 4, 16, 0};
  mqd_t mq = mq_open("/dunetrace_ipc_misc", O_CREAT | O_RDWR | O_CLOEXEC, 0600, &attr);
  if (mq < 0) return fail("mq_open");
  char buf[16];
  unsigned prio = 0;
  if (mq_send(mq, "msg", 3, 2) != 0 || mq_receive(mq, buf, sizeof buf, &prio) != 3) return fail("mq_send");
  mq_close(mq);
  if (mq_unlink("/dunetrace_ipc_misc") != 0) return fail("mq_unlink");

  int a[2], b[2];
  if (pipe2(a, O_CLOEXEC) != 0 || pipe2(b, O_CLOEXEC) != 0) return fail("pipe2");
  if (write(a[1], "abcd", 4) != 4 || tee(a[0], b[1], 4, SPLICE_F_NONBLOCK) != 4) return fail("tee");
  if (splice(a[0], NULL, b[1], NULL, 4, SPLICE_F_MOVE) != 4) return fail("splice");

  /* The pid in the name: a tracer's comparison of two runs knows pids. */
  char path[64];
  snprintf(path, sizeof path, "/tmp/dunetrace-ipc-misc-%d", (int)getpid());
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || fallocate(fd, 0, 0, 8192) != 0) return fail("fallocate");
  int in = inotify_init1(IN_CLOEXEC);
  if (in < 0 || inotify_add_watch(in, path, IN_MODIFY | IN_CLOSE_WRITE) < 0) return fail("inotify");
  unlink(path);
  int tf = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  struct itimerspec its;
  if (tf < 0 || timerfd_gettime(tf, &its) != 0) return fail("timerfd");

  sched_yield();
  struct tms t;
  syscall(SYS_times, &t);
  unsigned cpu, node;
  syscall(SYS_getcpu, &cpu, &node, NULL);
  syscall(SYS_personality, 0xffffffffUL);
  gid_t groups[64];
  syscall(SYS_getgroups, 64, groups);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  syscall(SYS_capget, &hdr, data);
  syscall(SYS_membarrier, 0, 0, 0);
  return 0;
}
