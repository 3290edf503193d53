// The runtime's parts that are not templates (codeself_rt.hpp says why they are apart).
#include "codeself_rt.hpp"

#include <cxxabi.h>
#include <unistd.h>

namespace codeself_rt {

void Out::put(const std::string& s) {
  text += s;
  if (text.size() > kMaxBytes) throw Unsupported("ValueTooLarge");
}

// UTF-8 text as a JSON string with \u escapes (ASCII only on the wire); other bytes as ["b", hex].
void put_bytes_or_string(Out& o, const std::string& s) {
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

void enc_double(Out& o, double x) {
  if (std::isnan(x)) { o.put("[\"f\",\"nan\"]"); return; }
  if (std::isinf(x)) { o.put(x > 0 ? "[\"f\",\"inf\"]" : "[\"f\",\"-inf\"]"); return; }
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);  // exact: 17 significant digits round-trip
  o.put(std::string("[\"f\",\"") + buffer + "\"]");
}

void enc_any(Out& o, const std::any& a) {
  if (!a.has_value()) { o.put("null"); return; }
#define CODESELF_ANY(T) if (auto p = std::any_cast<T>(&a)) { enc(o, *p); return; }
  CODESELF_ANY(long) CODESELF_ANY(int) CODESELF_ANY(long long) CODESELF_ANY(double) CODESELF_ANY(float)
  CODESELF_ANY(bool) CODESELF_ANY(std::string) CODESELF_ANY(const char*) CODESELF_ANY(char)
  CODESELF_ANY(std::vector<long>) CODESELF_ANY(std::vector<std::string>) CODESELF_ANY(std::vector<std::any>)
#undef CODESELF_ANY
  throw Unsupported("UnsupportedValue");
}

namespace {

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

}  // namespace

// Answer the import step, then one step per test; returns when the worker closes the pipe.
int serve(int argc, char** argv, const Call* calls, size_t count) {
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
      if (index >= count) throw std::out_of_range("no such test");
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
