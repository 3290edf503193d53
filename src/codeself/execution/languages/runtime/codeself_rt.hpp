// CodeSelf's C++ harness runtime (docs/languages.md): the templates that encode a returned value.
// Included only by the harness's own translation unit, never by the candidate's: the candidate's
// macros cannot reach it. What is not a template (the encoder's fixed parts and the protocol) is
// codeself_rt.cpp, compiled once per machine; trusted code joins it to each task's harness
// object and makes its symbols local there (cpp.py), so no symbol of the candidate's replaces it.
// It holds no expected value: it encodes what the candidate's function returned.
//
// Protocol (fd 3 in, fd 4 out; 4-byte big-endian length + body): the import answer
// {"ok":true,"n":N}, then for each step {"t":I,"n":N} one answer {"values":[ENCODED],"n":N} or
// {"error":{"type":T,"message":M},"n":N}. Values use the closed encoding of codec.py.
#pragma once
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

namespace codeself_rt {

struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr size_t kMaxBytes = 16u << 20;
constexpr int kMaxDepth = 100;

struct Out {
  std::string text;
  int depth = 0;
  void put(const std::string& s);
};

void put_bytes_or_string(Out& o, const std::string& s);  // UTF-8 as a JSON string; other bytes as ["b", hex]
void enc_double(Out& o, double x);
void enc_any(Out& o, const std::any& a);

template <class T> void enc(Out& o, const T& value);

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

// One encoded call per test; serve answers the import step, then one step per test, and
// returns when the worker closes the pipe.
using Call = std::string (*)();
int serve(int argc, char** argv, const Call* calls, size_t count);

}  // namespace codeself_rt
