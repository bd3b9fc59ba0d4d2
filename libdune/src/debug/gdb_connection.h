// gdb_connection.h - one gdb connection: its packets in and out, and the
// answers to the commands gdb sends while the program is stopped.
#pragma once

#include <string_view>

#include "debug/debug_stop.h"
#include "debug/rsp_packet.h"

namespace dune::debug {

struct Connection {
  int fd = -1;
  bool ack = true;  // until QStartNoAckMode
  rsp::PacketReader reader;
  int g_tid = 0;    // the thread for registers and memory (Hg); 0: the stop's
  int c_tid = -1;   // the thread for c/s (Hc); -1: every thread
  StopReport stop;  // the stop gdb was last told of
};

// Writes a framed packet; false when the peer is gone.
bool send_packet(Connection& c, std::string_view payload);
// The stop reply for a stop: "T05thread:1f2e;swbreak:;" and the like.
rsp::Text stop_reply(const StopReport& s);

enum class After : uint8_t { kStay, kResume, kDetach, kKill };
// Answers one packet received while the program is stopped. On kResume,
// actions[0..*n) say how each thread goes on.
After handle_packet(Connection& c, std::string_view p, ResumeAction* actions, int* n, int max_actions);

}  // namespace dune::debug
