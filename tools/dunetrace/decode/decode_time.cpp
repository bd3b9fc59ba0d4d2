// decode_time.cpp - clocks, sleeps and timers.
#include <fmt/format.h>
#include <sys/syscall.h>

#include "decoder.h"

namespace dunetrace::decode {

namespace {

constexpr Named kClocks[] = {
    {0, "CLOCK_REALTIME"},        {1, "CLOCK_MONOTONIC"},       {2, "CLOCK_PROCESS_CPUTIME_ID"},
    {3, "CLOCK_THREAD_CPUTIME_ID"}, {4, "CLOCK_MONOTONIC_RAW"}, {5, "CLOCK_REALTIME_COARSE"},
    {6, "CLOCK_MONOTONIC_COARSE"}, {7, "CLOCK_BOOTTIME"},       {8, "CLOCK_REALTIME_ALARM"},
    {9, "CLOCK_BOOTTIME_ALARM"},  {11, "CLOCK_TAI"},
};
constexpr Named kItimers[] = {{0, "ITIMER_REAL"}, {1, "ITIMER_VIRTUAL"}, {2, "ITIMER_PROF"}};
constexpr Named kTimerAbs[] = {{1, "TIMER_ABSTIME"}};
constexpr Named kTfdCreate[] = {{04000, "TFD_NONBLOCK"}, {02000000, "TFD_CLOEXEC"}};
constexpr Named kTfdSet[] = {{1, "TFD_TIMER_ABSTIME"}, {2, "TFD_TIMER_CANCEL_ON_SET"}};

std::string clock_text(uint64_t c) { return xlat(c & 0xffffffff, kClocks, "CLOCK_", false); }

Value ts_arg(Ctx& c, int i, bool out) {
  const uint8_t* ts = (!out || c.ok()) && c.arg(i) ? c.object(i, 16) : nullptr;
  return ts ? timespec_value(ts) : c.ptr(i);
}
Value tv_arg(Ctx& c, int i, bool out) {
  const uint8_t* tv = (!out || c.ok()) && c.arg(i) ? c.object(i, 16) : nullptr;
  return tv ? timeval_value(tv) : c.ptr(i);
}

void clock_gettime_(Ctx& c) {
  c.push(clock_text(c.arg(0)));
  c.push(ts_arg(c, 1, true));
}
void clock_nanosleep_(Ctx& c) {
  c.push(clock_text(c.arg(0)));
  c.push(flags(c.arg(1), kTimerAbs));
  c.push(ts_arg(c, 2, false));
  c.push(c.ptr(3));
}
void nanosleep_(Ctx& c) {
  c.push(ts_arg(c, 0, false));
  c.push(c.ptr(1));
}
void gettimeofday_(Ctx& c) {
  c.push(tv_arg(c, 0, true));
  c.push(c.ptr(1));
}
void time_(Ctx& c) { c.push(c.ptr(0)); }

Value itimerval_value(Ctx& c, int i, bool out) {
  const uint8_t* it = (!out || c.ok()) && c.arg(i) ? c.object(i, 32) : nullptr;
  if (!it) return c.ptr(i);
  Value v = Value::record();
  v.add("it_interval", timeval_value(it));
  v.add("it_value", timeval_value(it + 16));
  return v;
}
void setitimer_(Ctx& c) {
  c.push(xlat(c.arg(0), kItimers, "ITIMER_", false));
  c.push(itimerval_value(c, 1, false));
  c.push(itimerval_value(c, 2, true));
}
void getitimer_(Ctx& c) {
  c.push(xlat(c.arg(0), kItimers, "ITIMER_", false));
  c.push(itimerval_value(c, 1, true));
}
void alarm_(Ctx& c) { c.push(c.ulong(0)); }
void timerfd_create_(Ctx& c) {
  c.push(clock_text(c.arg(0)));
  c.push(flags(c.arg(1), kTfdCreate));
}
Value itimerspec_value(Ctx& c, int i, bool out) {
  const uint8_t* it = (!out || c.ok()) && c.arg(i) ? c.object(i, 32) : nullptr;
  if (!it) return c.ptr(i);
  Value v = Value::record();
  v.add("it_interval", timespec_value(it));
  v.add("it_value", timespec_value(it + 16));
  return v;
}
void timerfd_gettime_(Ctx& c) {
  c.push(c.fd(0));
  c.push(itimerspec_value(c, 1, true));
}
void timerfd_settime_(Ctx& c) {
  c.push(c.fd(0));
  c.push(flags(c.arg(1), kTfdSet));
  c.push(itimerspec_value(c, 2, false));
  c.push(itimerspec_value(c, 3, true));
}

}  // namespace

Value timespec_value(const uint8_t* ts) {
  Value v = Value::record();
  v.add("tv_sec", Value::txt(std::to_string(load<int64_t>(ts, 0))));
  v.add("tv_nsec", Value::txt(std::to_string(load<int64_t>(ts, 8))));
  return v;
}

Value timeval_value(const uint8_t* tv) {
  Value v = Value::record();
  v.add("tv_sec", Value::txt(std::to_string(load<int64_t>(tv, 0))));
  v.add("tv_usec", Value::txt(std::to_string(load<int64_t>(tv, 8))));
  return v;
}

const DecoderEntry kTimeDecoders[] = {
    {SYS_clock_gettime, clock_gettime_}, {SYS_clock_getres, clock_gettime_},
    {SYS_clock_nanosleep, clock_nanosleep_}, {SYS_nanosleep, nanosleep_},
    {SYS_gettimeofday, gettimeofday_},   {SYS_time, time_},
    {SYS_setitimer, setitimer_},         {SYS_getitimer, getitimer_},
    {SYS_alarm, alarm_},                 {SYS_timerfd_create, timerfd_create_},
    {SYS_timerfd_settime, timerfd_settime_}, {SYS_timerfd_gettime, timerfd_gettime_},
};
const size_t kTimeDecodersCount = sizeof kTimeDecoders / sizeof kTimeDecoders[0];

}  // namespace dunetrace::decode
