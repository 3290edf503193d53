// CodeSelf's C++ harness runtime (docs/languages.md). Included only by the harness's own
// translation unit, never by the candidate's: the candidate's macros cannot reach it, and all
// of it has internal linkage (an unnamed namespace), so no symbol of the candidate's replaces it.
// It holds no expected value: it encodes what the candidate's function returned.
//
// Protocol (fd 3 in, fd 4 out; 4-byte big-endian length + body): the import answer
// {"ok":true,"n":N}, then for each step {"t":I,"n":N} one answer {"values":[ENCODED],"n":N} or
// {"error":{"type":T,"message":M},"n":N}. Values use the closed encoding of codec.py.
#pragma once
#include <any>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>
#include <cxxabi.h>
#include <unistd.h>

namespace {
namespace codeself_rt {

struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr size_t kMaxBytes = 16u << 20;
constexpr int kMaxDepth = 100;

struct Out {
  std::string text;
  int depth = 0;
  void put(const std::string& s) {
    text += s;
    if (text.size() > kMaxBytes) throw Unsupported("ValueTooLarge");
  }
};

// UTF-8 text as a JSON string with \u escapes (ASCII only on the wire); other bytes as ["b", hex].
inline void put_bytes_or_string(Out& o, const std::string& s) {
  std::string json = "\"";
  size_t i = 0;
  char buffer[16];
  while (i < s.size()) {
    unsigned char c = s[i];
    unsigned code = 0;
    int extra = 0;
    if (c < 0x80) { code = c; }
    else if ((c & 0xE0) == 0xC0) { code = c & 0x1F; extra = 1; }
    else if ((c & 0xF0) == 0xE0) { code = c & 0x0F; extra = 2; }
    else if ((c & 0xF8) == 0xF0) { code = c & 0x07; extra = 3; }
    else { extra = -1; }
    bool valid = extra >= 0;
    for (int k = 1; valid && k <= extra; ++k) {
      if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) valid = false;
      else code = (code << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    static const unsigned kMin[] = {0, 0x80, 0x800, 0x10000};
    if (valid && (code < kMin[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))) valid = false;
    if (!valid) {  // not UTF-8: the bytes themselves
      std::string hex = "[\"b\",\"";
      for (unsigned char b : s) { std::snprintf(buffer, sizeof buffer, "%02x", b); hex += buffer; }
      o.put(hex + "\"]");
      return;
    }
    if (code == '"' || code == '\\') { json += '\\'; json += static_cast<char>(code); }
    else if (code >= 0x20 && code < 0x7F) { json += static_cast<char>(code); }
    else if (code < 0x10000) { std::snprintf(buffer, sizeof buffer, "\\u%04x", code); json += buffer; }
    else {
      unsigned v = code - 0x10000;
      std::snprintf(buffer, sizeof buffer, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      json += buffer;
    }
    i += extra + 1;
  }
  o.put(json + "\"");
}

template <class T> void enc(Out& o, const T& value);

inline void enc_double(Out& o, double x) {
  if (std::isnan(x)) { o.put("[\"f\",\"nan\"]"); return; }
  if (std::isinf(x)) { o.put(x > 0 ? "[\"f\",\"inf\"]" : "[\"f\",\"-inf\"]"); return; }
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);  // exact: 17 significant digits round-trip
  o.put(std::string("[\"f\",\"") + buffer + "\"]");
}

template <class Seq> void enc_items(Out& o, const char* tag, const Seq& items) {
  if (++o.depth > kMaxDepth) throw Unsupported("ValueTooLarge");
  o.put(std::string("[\"") + tag + "\",[");
  bool first = true;
  for (const auto& item : items) {
    if (!first) o.put(",");
    first = false;
    enc(o, item);
  }
  o.put("]]");
  --o.depth;
}

template <class Map> void enc_map(Out& o, const Map& map) {
  if (++o.depth > kMaxDepth) throw Unsupported("ValueTooLarge");
  o.put("[\"d\",[");
  bool first = true;
  for (const auto& pair : map) {
    if (!first) o.put(",");
    first = false;
    o.put("[");
    enc(o, pair.first);
    o.put(",");
    enc(o, pair.second);
    o.put("]");
  }
  o.put("]]");
  --o.depth;
}

template <class Tuple, size_t... I> void enc_tuple(Out& o, const Tuple& t, std::index_sequence<I...>) {
  if (++o.depth > kMaxDepth) throw Unsupported("ValueTooLarge");
  o.put("[\"t\",[");
  size_t index = 0;
  ((o.put(index++ ? "," : ""), enc(o, std::get<I>(t))), ...);
  o.put("]]");
  --o.depth;
}

template <class> struct is_vector : std::false_type {};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type {};
template <class> struct is_set : std::false_type {};
template <class T, class C, class A> struct is_set<std::set<T, C, A>> : std::true_type {};
template <class T, class H, class E, class A> struct is_set<std::unordered_set<T, H, E, A>> : std::true_type {};
template <class> struct is_map : std::false_type {};
template <class K, class V, class C, class A> struct is_map<std::map<K, V, C, A>> : std::true_type {};
template <class K, class V, class H, class E, class A> struct is_map<std::unordered_map<K, V, H, E, A>> : std::true_type {};
template <class> struct is_tuple : std::false_type {};
template <class... T> struct is_tuple<std::tuple<T...>> : std::true_type {};
template <class A, class B> struct is_tuple<std::pair<A, B>> : std::true_type {};
template <class> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class> struct is_variant : std::false_type {};
template <class... T> struct is_variant<std::variant<T...>> : std::true_type {};

inline void enc_any(Out& o, const std::any& a) {
  if (!a.has_value()) { o.put("null"); return; }
#define CODESELF_ANY(T) if (auto p = std::any_cast<T>(&a)) { enc(o, *p); return; }
  CODESELF_ANY(long) CODESELF_ANY(int) CODESELF_ANY(long long) CODESELF_ANY(double) CODESELF_ANY(float)
  CODESELF_ANY(bool) CODESELF_ANY(std::string) CODESELF_ANY(const char*) CODESELF_ANY(char)
  CODESELF_ANY(std::vector<long>) CODESELF_ANY(std::vector<std::string>) CODESELF_ANY(std::vector<std::any>)
#undef CODESELF_ANY
  throw Unsupported("UnsupportedValue");
}

template <class T> void enc(Out& o, const T& value) {
  using V = std::decay_t<T>;
  if constexpr (std::is_same_v<V, bool>) {
    o.put(value ? "true" : "false");
  } else if constexpr (std::is_same_v<V, char>) {
    put_bytes_or_string(o, std::string(1, value));
  } else if constexpr (std::is_integral_v<V>) {
    if constexpr (std::is_unsigned_v<V>) {
      if (static_cast<unsigned long long>(value) >= (1ull << 63)) {
        char buffer[40];
        std::snprintf(buffer, sizeof buffer, "[\"i\",\"%llx\"]", static_cast<unsigned long long>(value));
        o.put(buffer);
        return;
      }
    }
    o.put(std::to_string(static_cast<long long>(value)));
  } else if constexpr (std::is_floating_point_v<V>) {
    enc_double(o, static_cast<double>(value));
  } else if constexpr (std::is_same_v<V, std::string>) {
    put_bytes_or_string(o, value);
  } else if constexpr (std::is_same_v<V, const char*> || std::is_same_v<V, char*>) {
    if (value == nullptr) o.put("null"); else put_bytes_or_string(o, std::string(value));
  } else if constexpr (std::is_same_v<V, std::nullopt_t> || std::is_same_v<V, std::nullptr_t>) {
    o.put("null");
  } else if constexpr (std::is_same_v<V, std::any>) {
    enc_any(o, value);
  } else if constexpr (is_optional<V>::value) {
    if (value.has_value()) enc(o, *value); else o.put("null");
  } else if constexpr (is_variant<V>::value) {
    std::visit([&o](const auto& held) { enc(o, held); }, value);
  } else if constexpr (is_vector<V>::value) {
    enc_items(o, "l", value);
  } else if constexpr (is_set<V>::value) {
    enc_items(o, "s", value);
  } else if constexpr (is_map<V>::value) {
    enc_map(o, value);
  } else if constexpr (is_tuple<V>::value) {
    enc_tuple(o, value, std::make_index_sequence<std::tuple_size_v<V>>{});
  } else if constexpr (std::is_array_v<std::remove_reference_t<T>> &&
                       std::is_same_v<std::remove_cv_t<std::remove_extent_t<std::remove_reference_t<T>>>, char>) {
    put_bytes_or_string(o, std::string(value));
  } else {
    throw Unsupported("UnsupportedValue");  // e.g. MultiPL-E's Union_* types: no way to tell the member held
  }
}

template <class T> std::string encode(const T& value) {
  Out o;
  enc(o, value);
  return o.text;
}

inline bool read_exact(char* data, size_t size) {
  while (size) {
    ssize_t n = ::read(3, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

inline void write_answer(const std::string& body, const std::string& nonce) {
  std::string text = body + ",\"n\":\"" + nonce + "\"}";
  unsigned char head[4] = {static_cast<unsigned char>(text.size() >> 24), static_cast<unsigned char>(text.size() >> 16),
                           static_cast<unsigned char>(text.size() >> 8), static_cast<unsigned char>(text.size())};
  std::string frame(reinterpret_cast<char*>(head), 4);
  frame += text;
  const char* data = frame.data();
  size_t left = frame.size();
  while (left) {
    ssize_t n = ::write(4, data, left);
    if (n <= 0) _exit(70);
    data += n;
    left -= static_cast<size_t>(n);
  }
}

inline std::string json_text(const std::string& s) {
  Out o;
  put_bytes_or_string(o, s.substr(0, 300));
  return o.text[0] == '"' ? o.text : "\"(not UTF-8)\"";
}

inline std::string error_body(const std::string& type, const std::string& message) {
  return "{\"error\":{\"type\":" + json_text(type.substr(0, 80)) + ",\"message\":" + json_text(message) + "}";
}

inline std::string type_name(const std::type_info& info) {
  int status = 0;
  char* name = abi::__cxa_demangle(info.name(), nullptr, nullptr, &status);
  std::string result = status == 0 && name ? name : info.name();
  std::free(name);
  return result;
}

// Answer the import step, then one step per test; returns when the worker closes the pipe.
inline int serve(int argc, char** argv, const std::vector<std::function<std::string()>>& calls) {
  std::string nonce = argc > 1 ? argv[argc - 1] : "";
  write_answer("{\"ok\":true", nonce);
  for (;;) {
    char head[4];
    if (!read_exact(head, 4)) return 0;
    size_t size = (static_cast<size_t>(static_cast<unsigned char>(head[0])) << 24) |
                  (static_cast<size_t>(static_cast<unsigned char>(head[1])) << 16) |
                  (static_cast<size_t>(static_cast<unsigned char>(head[2])) << 8) | static_cast<unsigned char>(head[3]);
    if (size > 4096) return 0;
    std::string step(size, '\0');
    if (!read_exact(&step[0], size)) return 0;
    size_t t_at = step.find("\"t\":"), n_at = step.find("\"n\":\"");
    if (t_at == std::string::npos || n_at == std::string::npos) return 0;
    size_t index = std::strtoul(step.c_str() + t_at + 4, nullptr, 10);
    std::string step_nonce = step.substr(n_at + 5, step.find('"', n_at + 5) - (n_at + 5));
    std::string body;
    try {
      if (index >= calls.size()) throw std::out_of_range("no such test");
      body = "{\"values\":[" + calls[index]() + "]";
    } catch (const Unsupported& error) {
      body = error_body(error.what(), "the returned value has a type the harness cannot send");
    } catch (const std::exception& error) {
      body = error_body(type_name(typeid(error)), error.what());
    } catch (...) {
      body = error_body("UnknownException", "a value that is not a std::exception was thrown");
    }
    write_answer(body, step_nonce);
  }
}

}  // namespace codeself_rt
}  // namespace
