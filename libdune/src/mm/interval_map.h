// interval_map.h - disjoint half-open address ranges [start, end), each with a value.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <memory_resource>
#include <utility>

namespace dune {

struct Range {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  uint64_t size() const { return end - start; }
  bool empty() const { return end <= start; }
  bool contains(uint64_t a) const { return a >= start && a < end; }
  bool operator==(const Range&) const = default;
};

// Adjacent ranges with equal values are merged, so that the map stays as small
// as the mapping it mirrors. V needs operator==.
template <typename V>
class IntervalMap {
 public:
  struct Entry {
    uint64_t end;
    V value;
  };
  using Map = std::pmr::map<uint64_t, Entry>;

  explicit IntervalMap(std::pmr::memory_resource* mr = std::pmr::get_default_resource())
      : map_(mr) {}

  // The entry holding addr: {range, value*}, or value == nullptr.
  std::pair<Range, V*> find(uint64_t addr) {
    auto it = map_.upper_bound(addr);
    if (it == map_.begin()) return {{}, nullptr};
    --it;
    if (addr >= it->second.end) return {{}, nullptr};
    return {{it->first, it->second.end}, &it->second.value};
  }
  std::pair<Range, const V*> find(uint64_t addr) const {
    auto r = const_cast<IntervalMap*>(this)->find(addr);
    return {r.first, r.second};
  }

  // The first entry starting above addr, or value == nullptr.
  std::pair<Range, const V*> next_above(uint64_t addr) const {
    auto it = map_.upper_bound(addr);
    if (it == map_.end()) return {{}, nullptr};
    return {{it->first, it->second.end}, &it->second.value};
  }
  // The last entry ending at or below addr, or value == nullptr.
  std::pair<Range, const V*> last_below(uint64_t addr) const {
    auto it = map_.upper_bound(addr);
    while (it != map_.begin()) {
      --it;
      if (it->second.end <= addr) return {{it->first, it->second.end}, &it->second.value};
    }
    return {{}, nullptr};
  }

  // Makes [start, end) hold v, replacing whatever overlapped it.
  void assign(uint64_t start, uint64_t end, const V& v) {
    if (end <= start) return;
    erase(start, end);
    auto it = map_.emplace(start, Entry{end, v}).first;
    merge_around(it);
  }

  // Removes [start, end), splitting entries that straddle its edges.
  void erase(uint64_t start, uint64_t end) {
    if (end <= start) return;
    split_at(start);
    split_at(end);
    auto it = map_.lower_bound(start);
    while (it != map_.end() && it->first < end) it = map_.erase(it);
  }

  // Applies fn(V&) to every covered part of [start, end), splitting at its edges.
  template <typename Fn>
  void update(uint64_t start, uint64_t end, Fn&& fn) {
    if (end <= start) return;
    split_at(start);
    split_at(end);
    auto it = map_.lower_bound(start);
    auto first = it;
    while (it != map_.end() && it->first < end) {
      fn(it->second.value);
      ++it;
    }
    // Merge the touched run with its neighbours where values became equal.
    if (first != map_.end()) {
      auto last = it;
      auto cur = first;
      if (cur != map_.begin()) cur = std::prev(cur);
      while (cur != last && cur != map_.end()) {
        auto next = std::next(cur);
        if (next != map_.end() && cur->second.end == next->first &&
            cur->second.value == next->second.value) {
          cur->second.end = next->second.end;
          if (next == last) last = std::next(next);
          map_.erase(next);
        } else {
          cur = next;
        }
      }
    }
  }

  // Calls fn(Range, V&) for every entry overlapping [start, end), clipped to it.
  template <typename Fn>
  void for_each(uint64_t start, uint64_t end, Fn&& fn) {
    auto it = map_.upper_bound(start);
    if (it != map_.begin()) --it;
    for (; it != map_.end() && it->first < end; ++it) {
      if (it->second.end <= start) continue;
      Range r{it->first > start ? it->first : start, it->second.end < end ? it->second.end : end};
      fn(r, it->second.value);
    }
  }
  template <typename Fn>
  void for_each(Fn&& fn) {
    for (auto& [s, e] : map_) fn(Range{s, e.end}, e.value);
  }
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [s, e] : map_) fn(Range{s, e.end}, e.value);
  }

  // Calls fn(Range) for every part of [start, end) that no entry covers.
  template <typename Fn>
  void for_each_gap(uint64_t start, uint64_t end, Fn&& fn) {
    uint64_t cur = start;
    for_each(start, end, [&](Range r, V&) {
      if (r.start > cur) fn(Range{cur, r.start});
      cur = r.end;
    });
    if (cur < end) fn(Range{cur, end});
  }

  bool covers(uint64_t start, uint64_t end) {
    bool hole = false;
    for_each_gap(start, end, [&](Range) { hole = true; });
    return !hole;
  }

  size_t entries() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  void clear() { map_.clear(); }

 private:
  // Ensures no entry straddles addr.
  void split_at(uint64_t addr) {
    auto it = map_.upper_bound(addr);
    if (it == map_.begin()) return;
    --it;
    if (it->first < addr && addr < it->second.end) {
      Entry tail{it->second.end, it->second.value};
      it->second.end = addr;
      map_.emplace_hint(std::next(it), addr, std::move(tail));
    }
  }

  void merge_around(typename Map::iterator it) {
    auto next = std::next(it);
    if (next != map_.end() && it->second.end == next->first &&
        it->second.value == next->second.value) {
      it->second.end = next->second.end;
      map_.erase(next);
    }
    if (it != map_.begin()) {
      auto prev = std::prev(it);
      if (prev->second.end == it->first && prev->second.value == it->second.value) {
        prev->second.end = it->second.end;
        map_.erase(it);
      }
    }
  }

  Map map_;
};

}  // namespace dune
