// value.h - a decoded syscall argument: text as strace prints it, and the same
// value as JSON (--json keeps its structure: strings, structs, arrays).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dunetrace::decode {

struct Value {
  enum Kind {
    kText,    // printed as is: numbers, names, flag sets, "NULL", an address
    kString,  // bytes, printed quoted with strace's escapes
    kStruct,  // {name=value, ...}
    kArray,   // [value, ...]
    kUpdate,  // what the call found and what it left: items[0] => items[1] (JSON {"in":..,"out":..})
  };
  Kind kind = kText;
  std::string text;        // kText: the text; kString: the bytes
  bool truncated = false;  // kString: more bytes followed ("..."); kStruct/kArray: fields left out (...)
  bool whole = false;      // kString: a path, shown whole whatever -s says
  std::string comment;     // printed after the value: "0x7ffd... /* 41 vars */"
  std::vector<std::pair<std::string, Value>> items;  // kStruct: named fields; kArray: unnamed

  static Value txt(std::string t) { return Value{kText, std::move(t), false, false, {}, {}}; }
  static Value str(std::string bytes, bool more = false) { return Value{kString, std::move(bytes), more, false, {}, {}}; }
  static Value record() { return Value{kStruct, {}, false, false, {}, {}}; }
  static Value array() { return Value{kArray, {}, false, false, {}, {}}; }
  static Value update(Value in, Value out) {
    Value v{kUpdate, {}, false, false, {}, {}};
    v.add(std::move(in));
    v.add(std::move(out));
    return v;
  }
  Value& add(std::string name, Value v) {
    items.emplace_back(std::move(name), std::move(v));
    return *this;
  }
  Value& add(Value v) { return add({}, std::move(v)); }
};

// strace's text of v; limit: -s, the bytes of a string shown.
std::string render_text(const Value& v, int limit);
// v as JSON: text as a string (or a number when it is one), strings with their bytes.
std::string render_json(const Value& v, int limit);

// The bytes as strace quotes them: "\177ELF\2\1", \n \t \r \v \f \" \\, octal for
// other unprintable bytes (three digits before a digit); at most limit bytes,
// then "..." when more (or truncated) followed.
std::string quote_bytes(const std::string& bytes, int limit, bool truncated);

}  // namespace dunetrace::decode
