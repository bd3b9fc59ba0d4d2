// fatal_signal.h - ending the process the way Linux would for a fault.
#pragma once

namespace dune {

// Kills the whole process with signo and its default action (termination,
// core dump), so that a parent sees the same wait status as natively. Never
// returns.
[[noreturn]] void die_with_signal(int signo);

// Called once just before die_with_signal kills (the statistics report).
void set_death_hook(void (*fn)(int signo));

}  // namespace dune
