#include "services/catalog/filter.h"

#include <cctype>
#include <cstdlib>
#include <optional>
#include <variant>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"

namespace genesis::catalog {
namespace {

class Parser {
 public:
  Parser(absl::string_view text, absl::string_view field) : text_(text), field_(field) {}

  absl::StatusOr<std::vector<Condition>> Parse() {
    std::vector<Condition> out;
    SkipSpace();
    if (pos_ == text_.size()) return out;
    for (;;) {
      auto cond = ParseCondition();
      if (!cond.ok()) return cond.status();
      out.push_back(std::move(*cond));
      SkipSpace();
      if (pos_ == text_.size()) break;
      if (!ConsumeWord("AND")) return Error("expected AND or the end of the filter");
    }
    if (out.size() > 32) return Error("at most 32 conditions are allowed");
    return out;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return InvalidField(std::string(field_),
                        absl::StrCat(what, " at position ", pos_ + 1, " of \"", text_, "\""));
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool ConsumeWord(absl::string_view w) {
    SkipSpace();
    if (text_.substr(pos_, w.size()) != w) return false;
    size_t end = pos_ + w.size();
    if (end < text_.size() && !std::isspace(static_cast<unsigned char>(text_[end]))) return false;
    pos_ = end;
    return true;
  }

  static bool KeyChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  }

  absl::StatusOr<Condition> ParseCondition() {
    SkipSpace();
    Condition c;
    if (text_.substr(pos_, 11) == "attributes.") {
      c.target = Condition::Target::kAttribute;
      pos_ += 11;
    } else if (text_.substr(pos_, 7) == "labels.") {
      c.target = Condition::Target::kLabel;
      pos_ += 7;
    } else {
      return Error("a condition must start with attributes.<name> or labels.<key>");
    }
    size_t start = pos_;
    while (pos_ < text_.size() && KeyChar(text_[pos_])) ++pos_;
    c.key = std::string(text_.substr(start, pos_ - start));
    if (c.key.empty()) return Error("missing attribute or label name");
    SkipSpace();
    absl::string_view rest = text_.substr(pos_);
    if (rest.substr(0, 2) == "!=") {
      c.op = Condition::Op::kNe;
      pos_ += 2;
    } else if (rest.substr(0, 2) == "<=") {
      c.op = Condition::Op::kLe;
      pos_ += 2;
    } else if (rest.substr(0, 2) == ">=") {
      c.op = Condition::Op::kGe;
      pos_ += 2;
    } else if (rest.substr(0, 1) == "=") {
      c.op = Condition::Op::kEq;
      pos_ += 1;
    } else if (rest.substr(0, 1) == "<") {
      c.op = Condition::Op::kLt;
      pos_ += 1;
    } else if (rest.substr(0, 1) == ">") {
      c.op = Condition::Op::kGt;
      pos_ += 1;
    } else if (rest.substr(0, 1) == ":") {
      c.op = Condition::Op::kHas;
      pos_ += 1;
    } else
      return Error("expected an operator (=, !=, <, <=, >, >=, :)");
    SkipSpace();
    if (c.op == Condition::Op::kHas && pos_ < text_.size() && text_[pos_] == '*') {
      ++pos_;
      c.value = std::monostate{};
      return c;
    }
    auto value = ParseValue();
    if (!value.ok()) return value.status();
    c.value = std::move(*value);
    if (c.target == Condition::Target::kLabel && !std::holds_alternative<std::string>(c.value)) {
      // Labels are strings: compare the literal text the caller wrote.
      if (std::holds_alternative<double>(c.value))
        c.value = last_literal_;
      else if (auto* b = std::get_if<bool>(&c.value))
        c.value = std::string(*b ? "true" : "false");
    }
    bool ordering = c.op == Condition::Op::kLt || c.op == Condition::Op::kLe ||
                    c.op == Condition::Op::kGt || c.op == Condition::Op::kGe;
    if (ordering && std::holds_alternative<bool>(c.value)) {
      return Error("booleans can only be compared with = or !=");
    }
    return c;
  }

  absl::StatusOr<std::variant<std::monostate, std::string, double, bool>> ParseValue() {
    if (pos_ >= text_.size()) return Error("missing value");
    if (text_[pos_] == '"') {
      ++pos_;
      std::string s;
      while (pos_ < text_.size() && text_[pos_] != '"') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
        s += text_[pos_++];
      }
      if (pos_ >= text_.size()) return Error("unterminated string");
      ++pos_;
      return s;
    }
    size_t start = pos_;
    while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    std::string word(text_.substr(start, pos_ - start));
    last_literal_ = word;
    if (word == "true") return true;
    if (word == "false") return false;
    char* end = nullptr;
    double d = std::strtod(word.c_str(), &end);
    if (end != nullptr && *end == '\0' && !word.empty()) return d;
    return word;
  }

  absl::string_view text_;
  absl::string_view field_;
  size_t pos_ = 0;
  std::string last_literal_;
};

}  // namespace

absl::StatusOr<std::vector<Condition>> ParseFilter(absl::string_view filter,
                                                   absl::string_view field_name) {
  if (filter.size() > 4096)
    return InvalidField(std::string(field_name), "longer than 4096 characters");
  // Keys and values go to PostgreSQL as text parameters, where a NUL would
  // silently cut them short (a filter for "a\0b" would match "a").
  if (std::string problem = StorableTextProblem(filter); !problem.empty()) {
    return InvalidField(std::string(field_name), std::move(problem));
  }
  return Parser(filter, field_name).Parse();
}

}  // namespace genesis::catalog

namespace genesis::catalog {
namespace {

nlohmann::json JsonValue(const std::variant<std::monostate, std::string, double, bool>& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* b = std::get_if<bool>(&v)) return *b;
  return nullptr;
}

// jsonb equality as containment sees it for a scalar: numbers by value.
bool JsonEquals(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

template <typename T>
bool Compare(const T& a, Condition::Op op, const T& b) {
  switch (op) {
    case Condition::Op::kLt:
      return a < b;
    case Condition::Op::kLe:
      return a <= b;
    case Condition::Op::kGt:
      return a > b;
    case Condition::Op::kGe:
      return a >= b;
    default:
      return false;
  }
}

bool ConditionHolds(const nlohmann::json& attributes,
                    const std::map<std::string, std::string>& labels, const Condition& c) {
  std::optional<nlohmann::json> value;
  if (c.target == Condition::Target::kLabel) {
    if (auto it = labels.find(c.key); it != labels.end()) value = it->second;
  } else if (attributes.is_object()) {
    if (auto it = attributes.find(c.key); it != attributes.end()) value = *it;
  }
  const nlohmann::json want = JsonValue(c.value);
  switch (c.op) {
    case Condition::Op::kEq:
      return value && JsonEquals(*value, want);
    case Condition::Op::kNe:
      return !(value && JsonEquals(*value, want));
    case Condition::Op::kHas:
      if (!value) return false;
      if (std::holds_alternative<std::monostate>(c.value)) return true;
      if (value->is_array()) {
        for (const auto& e : *value) {
          if (JsonEquals(e, want)) return true;
        }
        return false;
      }
      return JsonEquals(*value, want);
    default:
      if (!value) return false;
      if (const double* d = std::get_if<double>(&c.value)) {
        return value->is_number() && Compare(value->get<double>(), c.op, *d);
      }
      {
        // As the SQL does: anything but a number compares as a string (a bool as "").
        const std::string* s = std::get_if<std::string>(&c.value);
        return value->is_string() &&
               Compare(value->get<std::string>(), c.op, s != nullptr ? *s : std::string());
      }
  }
}

}  // namespace

bool ItemMatchesFilter(const nlohmann::json& attributes,
                       const std::map<std::string, std::string>& labels,
                       const std::vector<Condition>& filter) {
  for (const auto& c : filter) {
    if (!ConditionHolds(attributes, labels, c)) return false;
  }
  return true;
}

}  // namespace genesis::catalog
