/* events: the event stream reports each forwarded syscall (number, arguments,
 * result), each VM exit, and each fault with what became of it; nothing is
 * reported once the listener is removed. */
#include <dune/dune.h>
#include <dune/trace.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "test_support.h"

#define MAX 256
static struct dune_event got[MAX];
static int n;
static int failures;
static char *page;

/* Runs on the host side: no malloc, no stdio. */
static void listener(const struct dune_event *ev, void *ctx) {
  if (ctx != (void *)&got) return;
  if (n < MAX) got[n++] = *ev;
}

static void pgflt(uintptr_t addr, uint64_t fec, struct dune_tf *tf) {
  (void)addr; (void)fec; (void)tf;
  mprotect(page, 4096, PROT_READ | PROT_WRITE);
}

static void check(int ok, const char *what) {
  printf("events: %-60s %s\n", what, ok ? "ok" : "FAIL");
  if (!ok) ++failures;
}

int main(void) {
  int r = dune_init_and_enter();
  if (r) dune_test_skip_or_fail("events", r);
  page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  dune_register_pgflt_handler(pgflt);
  int devnull = open("/dev/null", O_WRONLY);
  long ppid = syscall(SYS_getppid);

  /* write's event also comes before it runs (DUNE_EVF_ENTRY); getppid's does not. */
  uint64_t entries[SYS_write / 64 + 1] = {0};
  entries[SYS_write / 64] |= 1ull << (SYS_write % 64);
  check(dune_set_syscall_entries(NULL, 1) == -EINVAL && dune_set_syscall_entries(entries, 17) == -EINVAL,
        "dune_set_syscall_entries refuses bad input");
  check(dune_set_syscall_entries(entries, SYS_write / 64 + 1) == 0, "dune_set_syscall_entries(write)");
  dune_set_event_listener(listener, &got, DUNE_EV_ALL);
  for (int i = 0; i < 3; ++i) syscall(SYS_getppid);
  syscall(SYS_write, devnull, "abc", 3);
  page[5] = 1; /* a page fault, given to the handler */
  dune_set_event_listener(NULL, NULL, 0);
  int seen = n;
  syscall(SYS_getppid);

  dune_set_syscall_entries(NULL, 0);
  int getppids = 0, writes = 0, exits = 0, faults = 0, syscall_exits = 0, entries_seen = 0, entry_order = 0;
  for (int i = 0; i < seen; ++i) {
    const struct dune_event *e = &got[i];
    if (e->pid != getpid() || e->tid != (int)syscall(SYS_gettid) || !e->regs) ++failures;
    switch (e->kind) {
      case DUNE_EV_SYSCALL:
        if (e->flags & DUNE_EVF_ENTRY) {
          /* Before the call: its arguments, no result; its completion is the next syscall event. */
          if (e->u.syscall.nr == SYS_write && e->u.syscall.args[2] == 3 && e->u.syscall.ret == 0) ++entries_seen;
          for (int k = i + 1; k < seen; ++k)
            if (got[k].kind == DUNE_EV_SYSCALL) {
              entry_order += got[k].u.syscall.nr == SYS_write && !(got[k].flags & DUNE_EVF_ENTRY);
              break;
            }
          break;
        }
        if (e->u.syscall.nr == SYS_getppid && e->u.syscall.ret == ppid) ++getppids;
        if (e->u.syscall.nr == SYS_write && e->u.syscall.args[0] == (uint64_t)devnull &&
            e->u.syscall.args[2] == 3 && e->u.syscall.ret == 3)
          ++writes;
        break;
      case DUNE_EV_VMEXIT:
        ++exits;
        syscall_exits += e->u.vmexit.exit_kind == DUNE_EXIT_SYSCALL;
        break;
      case DUNE_EV_FAULT:
        if (e->u.fault.vector == T_PGFLT && e->u.fault.addr == (uint64_t)page + 5 &&
            e->u.fault.outcome == DUNE_FAULT_HANDLER && e->u.fault.mapped && e->u.fault.prot == PROT_READ)
          ++faults;
        break;
    }
  }
  check(getppids == 3, "3 getppid syscalls with their result");
  check(writes == 1, "write(devnull, \"abc\", 3) with its arguments and result");
  check(entries_seen == 1 && entry_order == 1, "write's entry event, before its completion; none for getppid");
  check(faults == 1, "the page fault: address, mapping, protection, outcome");
  check(exits >= 6 && syscall_exits >= 5, "a VM exit for each syscall, fault and handler return");
  check(n == seen, "nothing after the listener was removed");
  check(dune_syscall_number("getppid") == SYS_getppid && !strcmp(dune_syscall_name(SYS_write), "write"),
        "syscall names");
  printf(failures ? "events: FAIL\n" : "events: ok\n");
  return failures ? 1 : 0;
}
