/* gdb_stub: the library's gdb server spoken to by hand, where no gdb runs (the
 * hardware beds: static programs only). The child enters Dune mode with
 * DUNE_GDB on a Unix socket and waits; the parent is the debugger: the first
 * stop, a hardware write watchpoint where the flavour has them (VT-x:
 * KVM_SET_GUEST_DEBUG; elsewhere the empty reply, "not supported"), a software
 * breakpoint, registers, memory, the exit status. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

static void check(int ok, const char *what) { dune_test_check("gdb_stub", ok, what); }

volatile int watched;

__attribute__((noinline)) int marker(int x) { return x + 1; }

static int sock = -1;
static char reply[65536];

static void send_packet(const char *p) {
  char buf[1024];
  unsigned sum = 0;
  for (const char *c = p; *c; ++c) sum += (unsigned char)*c;
  int n = snprintf(buf, sizeof buf, "$%s#%02x", p, sum & 0xff);
  if (write(sock, buf, n) != n) check(0, "writing to the server");
}

/* The next packet's payload into reply (acks skipped); 0 on timeout or EOF. */
static int read_packet(int timeout_ms) {
  size_t used = 0;
  int in = 0;
  for (;;) {
    struct pollfd p = {sock, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return 0;
    char c;
    if (read(sock, &c, 1) != 1) return 0;
    if (!in) {
      if (c == '$') in = 1;
      continue;
    }
    if (c == '#') {
      char cs[2];
      if (read(sock, cs, 2) != 2) return 0;
      reply[used] = 0;
      /* The ack; after W the child may be gone already (EPIPE). */
      (void)!write(sock, "+", 1);
      return 1;
    }
    if (used < sizeof reply - 1) reply[used++] = c;
  }
}

static const char *ask(const char *p, int timeout_ms) {
  send_packet(p);
  if (!read_packet(timeout_ms)) strcpy(reply, "(no reply)");
  if (getenv("GDB_STUB_VERBOSE")) fprintf(stderr, "-> %s\n<- %s\n", p, reply);
  return reply;
}

int main(void) {
  char path[108];
  snprintf(path, sizeof path, "./gdb_stub.%d.sock", (int)getpid());
  unlink(path);
  long scale = dune_test_usec(1);  /* an emulated CPU: generous timeouts */
  int timeout_ms = (int)(20000 * (scale > 50 ? 50 : scale));
  pid_t child = fork();
  if (child == 0) {
    setenv("DUNE_GDB", path, 1);
    int r = dune_init_and_enter();
    if (r) dune_test_skip_or_fail("gdb_stub", r);
    watched = 1;
    int m = marker(41);
    watched = m;
    _exit(watched == 42 ? 0 : 3);
  }
  signal(SIGPIPE, SIG_IGN);  /* a child that died early: an error, not our death */
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, path);
  sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int connected = 0;
  for (int i = 0; i < timeout_ms / 10 && !connected; ++i) {
    connected = connect(sock, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (!connected) {
      int status;
      if (waitpid(child, &status, WNOHANG) == child) {
        /* The child could not enter Dune mode (its status says skip or fail), or
         * ran without waiting for the debugger. */
        unlink(path);
        if (WIFEXITED(status) && WEXITSTATUS(status) == DUNE_TEST_SKIP) return DUNE_TEST_SKIP;
        check(0, "the child waited for the debugger");
        return 1;
      }
      usleep(10000);
    }
  }
  check(connected, "connected to the child's server");
  if (!connected) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    return 1;
  }
  unlink(path);
  check(strncmp(ask("?", timeout_ms), "T05thread:", 10) == 0, "the first stop: SIGTRAP, with its thread");
  /* Timer signals (the .storm run's is 40, gdb's 0x34) go on without a stop,
   * as gdb's "handle SIG nostop pass" asks. */
  check(strcmp(ask("QPassSignals:0e;1a;1b;34", timeout_ms), "OK") == 0, "timer signals passed on");

  char p[128];
  enum dune_flavour f = dune_get_flavour();
  /* Where the library offers them (flavour.h: VT-x only, for now). */
  int hw = f == DUNE_FLAVOUR_VMX;
  snprintf(p, sizeof p, "Z2,%lx,4", (unsigned long)&watched);
  const char *z2 = ask(p, timeout_ms);
  if (hw) {
    check(strcmp(z2, "OK") == 0, "a write watchpoint is set (vmx)");
    ask("vCont;c", timeout_ms);
    char want[64];
    snprintf(want, sizeof want, "watch:%lx;", (unsigned long)&watched);
    check(reply[0] == 'T' && strstr(reply, want) != NULL, "the write stops the child at the watchpoint");
    snprintf(p, sizeof p, "m%lx,4", (unsigned long)&watched);
    check(strcmp(ask(p, timeout_ms), "01000000") == 0, "after the write: the new value");
    snprintf(p, sizeof p, "z2,%lx,4", (unsigned long)&watched);
    check(strcmp(ask(p, timeout_ms), "OK") == 0, "the watchpoint removed");
  } else {
    check(z2[0] == 0, "no hardware watchpoints here: the empty reply");
  }
  snprintf(p, sizeof p, "Z0,%lx,1", (unsigned long)&marker);
  check(strcmp(ask(p, timeout_ms), "OK") == 0, "a software breakpoint on marker");
  ask("vCont;c", timeout_ms);
  check(strncmp(reply, "T05", 3) == 0 && strstr(reply, "swbreak:") != NULL, "the breakpoint stops the child");
  /* rip: register 16, eight bytes little-endian. */
  unsigned long want_rip = (unsigned long)&marker;
  char hex[17];
  for (int i = 0; i < 8; ++i) snprintf(hex + 2 * i, 3, "%02lx", (want_rip >> (8 * i)) & 0xff);
  check(strcmp(ask("p10", timeout_ms), hex) == 0, "rip is marker's first byte");
  /* rdi: marker's argument. */
  check(strncmp(ask("p5", timeout_ms), "2900000000000000", 16) == 0, "rdi holds marker's argument (41)");
  snprintf(p, sizeof p, "z0,%lx,1", (unsigned long)&marker);
  check(strcmp(ask(p, timeout_ms), "OK") == 0, "the breakpoint removed");
  ask("vCont;c", timeout_ms);
  check(strcmp(reply, "W00") == 0, "the end: W00");
  if (strcmp(reply, "W00") != 0) fprintf(stderr, "gdb_stub: got '%s'\n", reply);
  int status = 0;
  waitpid(child, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's status 0");
  if (dune_test_failures) return 1;
  printf("gdb_stub: ok\n");
  return 0;
}
