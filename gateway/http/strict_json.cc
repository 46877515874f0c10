#include "gateway/http/strict_json.h"

#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace genesis::gateway {
namespace {

using json = nlohmann::json;

// A SAX consumer that builds nothing: it tracks the keys of each open object
// and the path to the current value.
class StrictSax : public nlohmann::json_sax<json> {
 public:
  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override { return Open(true); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(false); }
  bool end_array() override { return Close(); }
  bool key(string_t& k) override {
    Frame& f = stack_.back();
    if (!f.keys.insert(k).second) {
      f.key = k;
      error_ = absl::StrCat("duplicate key \"", k, "\"");
      duplicate_ = true;
      return false;
    }
    f.key = k;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    error_ = absl::StrCat("malformed JSON at byte ", position);
    return false;
  }

  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] bool duplicate() const { return duplicate_; }
  [[nodiscard]] std::string Path() const {
    std::string out;
    for (const Frame& f : stack_) {
      if (f.object) {
        if (f.key.empty() && f.keys.empty()) break;
        absl::StrAppend(&out, out.empty() ? "" : ".", f.key);
      } else if (f.index > 0) {
        absl::StrAppend(&out, "[", f.index - 1, "]");
      } else {
        break;
      }
    }
    return out;
  }

 private:
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string key;   // object: the current member
    size_t index = 0;  // array: values seen so far
  };
  bool Value() {
    if (!stack_.empty() && !stack_.back().object) ++stack_.back().index;
    return true;
  }
  bool Open(bool object) {
    Value();
    if (stack_.size() >= static_cast<size_t>(kMaxJsonDepth)) {
      error_ = absl::StrCat("nested deeper than ", kMaxJsonDepth, " levels");
      return false;
    }
    stack_.push_back(Frame{object, {}, {}, 0});
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }

  std::vector<Frame> stack_;
  std::string error_;
  bool duplicate_ = false;
};

}  // namespace

absl::Status CheckStrictJson(std::string_view text, std::string* field) {
  StrictSax sax;
  bool ok = json::sax_parse(text.begin(), text.end(), &sax, nlohmann::json::input_format_t::json,
                            /*strict=*/true, /*ignore_comments=*/false);
  if (ok) return absl::OkStatus();
  if (field != nullptr) *field = sax.duplicate() ? sax.Path() : "";
  return absl::InvalidArgumentError(sax.error().empty() ? "malformed JSON" : sax.error());
}

}  // namespace genesis::gateway
