#include "gateway/routing/http_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/http/url.h"
#include "google/api/annotations.pb.h"

namespace genesis::gateway {

namespace pb = google::protobuf;

// Recursive-descent parser over the template grammar in the header.
class TemplateParser {
 public:
  explicit TemplateParser(std::string_view text) : text_(text) {}

  absl::StatusOr<PathTemplate> Parse() {
    PathTemplate t;
    t.text_ = std::string(text_);
    if (text_.empty() || text_[0] != '/') return Error("must start with '/'");
    // The verb is a ':' outside braces after the last '/'.
    size_t depth = 0, verb_at = std::string_view::npos;
    for (size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '{') ++depth;
      if (text_[i] == '}' && depth > 0) --depth;
      if (text_[i] == '/' && depth == 0) verb_at = std::string_view::npos;
      if (text_[i] == ':' && depth == 0 && verb_at == std::string_view::npos) verb_at = i;
    }
    std::string_view body = text_.substr(1);
    if (verb_at != std::string_view::npos) {
      t.verb_ = std::string(text_.substr(verb_at + 1));
      if (t.verb_.empty()) return Error("empty custom verb");
      body = text_.substr(1, verb_at - 1);
    }
    pos_ = 0;
    in_ = body;
    if (auto st = Segments(&t, /*in_variable=*/false); !st.ok()) return st;
    if (pos_ != in_.size())
      return Error(absl::StrCat("unexpected '", Absl(in_.substr(pos_, 1)), "'"));
    return t;
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("path template '", Absl(text_), "': ", Absl(what)));
  }

  absl::Status Segments(PathTemplate* t, bool in_variable) {
    while (true) {
      if (auto st = Segment(t, in_variable); !st.ok()) return st;
      if (pos_ < in_.size() && in_[pos_] == '/') {
        ++pos_;
        continue;
      }
      return absl::OkStatus();
    }
  }

  absl::Status Segment(PathTemplate* t, bool in_variable) {
    if (in_.substr(pos_, 2) == "**") {
      pos_ += 2;
      if (t->multi_) return Error("more than one '**'");
      t->multi_ = t->segments_.size();
      t->segments_.push_back({PathTemplate::Segment::kMulti, ""});
      return absl::OkStatus();
    }
    if (in_.substr(pos_, 1) == "*") {
      ++pos_;
      t->segments_.push_back({PathTemplate::Segment::kSingle, ""});
      return absl::OkStatus();
    }
    if (in_.substr(pos_, 1) == "{") {
      if (in_variable) return Error("nested variable");
      return Variable(t);
    }
    size_t start = pos_;
    while (pos_ < in_.size() && in_[pos_] != '/' && in_[pos_] != '{' && in_[pos_] != '}' &&
           in_[pos_] != '*' && in_[pos_] != '=') {
      ++pos_;
    }
    if (pos_ == start) return Error(absl::StrCat("empty segment at offset ", start + 1));
    t->segments_.push_back(
        {PathTemplate::Segment::kLiteral, std::string(in_.substr(start, pos_ - start))});
    return absl::OkStatus();
  }

  absl::Status Variable(PathTemplate* t) {
    ++pos_;  // '{'
    size_t start = pos_;
    while (pos_ < in_.size() && in_[pos_] != '=' && in_[pos_] != '}') ++pos_;
    std::string field(in_.substr(start, pos_ - start));
    if (field.empty()) return Error("variable without a field path");
    for (absl::string_view part : absl::StrSplit(field, '.')) {
      if (part.empty() || !std::all_of(part.begin(), part.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
          })) {
        return Error(absl::StrCat("bad field path '", field, "'"));
      }
    }
    for (const auto& v : t->variables_) {
      if (v.field_path == field) return Error(absl::StrCat("variable '", field, "' bound twice"));
    }
    size_t first = t->segments_.size();
    if (pos_ < in_.size() && in_[pos_] == '=') {
      ++pos_;
      if (auto st = Segments(t, /*in_variable=*/true); !st.ok()) return st;
    } else {
      t->segments_.push_back({PathTemplate::Segment::kSingle, ""});
    }
    if (pos_ >= in_.size() || in_[pos_] != '}') return Error("unclosed '{'");
    ++pos_;
    t->variables_.push_back({field, first, t->segments_.size()});
    return absl::OkStatus();
  }

  std::string_view text_;
  std::string_view in_;
  size_t pos_ = 0;
};

absl::StatusOr<PathTemplate> PathTemplate::Parse(std::string_view text) {
  return TemplateParser(text).Parse();
}

std::optional<std::vector<PathBinding>> PathTemplate::Match(std::string_view path) const {
  if (path.empty() || path[0] != '/') return std::nullopt;
  path.remove_prefix(1);
  if (!verb_.empty()) {
    std::string suffix = ":" + verb_;
    if (path.size() < suffix.size() || path.substr(path.size() - suffix.size()) != suffix) {
      return std::nullopt;
    }
    path.remove_suffix(suffix.size());
  }
  std::vector<absl::string_view> parts = absl::StrSplit(Absl(path), '/');
  const size_t nt = segments_.size(), np = parts.size();
  if (multi_ ? np + 1 < nt : np != nt) return std::nullopt;
  const size_t extra = np + 1 - nt;  // path segments taken by `**` (when present)
  // Where template segment t starts and ends (exclusive) in `parts`.
  auto start_of = [&](size_t t) { return (multi_ && t > *multi_) ? t + extra - 1 : t; };
  auto end_of = [&](size_t t) { return (multi_ && t == *multi_) ? t + extra : start_of(t) + 1; };
  for (size_t t = 0; t < nt; ++t) {
    if (segments_[t].kind == Segment::kMulti) continue;
    std::string_view part = Std(parts[start_of(t)]);
    if (part.empty()) return std::nullopt;
    if (segments_[t].kind == Segment::kLiteral) {
      auto decoded = PercentDecode(part, false, true);
      if (!decoded || *decoded != segments_[t].literal) return std::nullopt;
    }
  }
  std::vector<PathBinding> bindings;
  for (const auto& v : variables_) {
    size_t from = start_of(v.start);
    size_t to = end_of(v.end - 1);
    std::vector<absl::string_view> taken(parts.begin() + from, parts.begin() + to);
    std::string raw = absl::StrJoin(taken, "/");
    bool single = v.end - v.start == 1 && segments_[v.start].kind == Segment::kSingle;
    auto value = PercentDecode(raw, false, /*keep_encoded_slash=*/!single);
    if (!value) return std::nullopt;
    bindings.push_back({v.field_path, std::move(*value)});
  }
  return bindings;
}

std::vector<std::string> PathTemplate::VariableFieldPaths() const {
  std::vector<std::string> out;
  for (const auto& v : variables_) out.push_back(v.field_path);
  return out;
}

int PathTemplate::Specificity() const {
  int score = verb_.empty() ? 0 : 1000;
  for (const auto& s : segments_) {
    score += s.kind == Segment::kLiteral ? 10 : (s.kind == Segment::kSingle ? 1 : 0);
  }
  return score;
}

const pb::FieldDescriptor* FindFieldByAnyName(const pb::Descriptor* message,
                                              std::string_view name) {
  std::string n(name);
  if (const auto* f = message->FindFieldByName(n)) return f;
  for (int i = 0; i < message->field_count(); ++i) {
    if (message->field(i)->json_name() == n) return message->field(i);
  }
  return message->FindFieldByCamelcaseName(n);
}

absl::StatusOr<std::vector<const pb::FieldDescriptor*>> ResolveFieldPath(
    const pb::Descriptor* message, std::string_view path) {
  std::vector<const pb::FieldDescriptor*> out;
  std::string so_far;
  for (absl::string_view part : absl::StrSplit(Absl(path), '.')) {
    so_far = so_far.empty() ? std::string(part) : absl::StrCat(so_far, ".", part);
    if (message == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", so_far, "': '", out.back()->name(), "' is not a singular message"));
    }
    const pb::FieldDescriptor* f = FindFieldByAnyName(message, Std(part));
    if (f == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", so_far, "': no such field in ", message->full_name()));
    }
    out.push_back(f);
    message = (f->type() == pb::FieldDescriptor::TYPE_MESSAGE && !f->is_repeated())
                  ? f->message_type()
                  : nullptr;
  }
  return out;
}

namespace {

absl::StatusOr<Route> RouteForRule(const pb::MethodDescriptor* method,
                                   const google::api::HttpRule& rule) {
  using google::api::HttpRule;
  Route r;
  std::string path;
  switch (rule.pattern_case()) {
    case HttpRule::kGet:
      r.http_method = "GET", path = rule.get();
      break;
    case HttpRule::kPut:
      r.http_method = "PUT", path = rule.put();
      break;
    case HttpRule::kPost:
      r.http_method = "POST", path = rule.post();
      break;
    case HttpRule::kDelete:
      r.http_method = "DELETE", path = rule.delete_();
      break;
    case HttpRule::kPatch:
      r.http_method = "PATCH", path = rule.patch();
      break;
    case HttpRule::kCustom:
      r.http_method = rule.custom().kind(), path = rule.custom().path();
      break;
    default:
      return absl::InvalidArgumentError("rule without a pattern");
  }
  auto tmpl = PathTemplate::Parse(path);
  if (!tmpl.ok()) return tmpl.status();
  r.path = std::move(*tmpl);
  r.body = rule.body();
  r.response_body = rule.response_body();
  r.method = method;
  r.grpc_path = absl::StrCat("/", method->service()->full_name(), "/", method->name());
  r.label = absl::StrCat(r.http_method, " ", path);
  const pb::Descriptor* input = method->input_type();
  for (const auto& var : r.path.VariableFieldPaths()) {
    auto fields = ResolveFieldPath(input, var);
    if (!fields.ok()) return fields.status();
    const pb::FieldDescriptor* leaf = fields->back();
    if (leaf->is_repeated() || leaf->type() == pb::FieldDescriptor::TYPE_MESSAGE) {
      return absl::InvalidArgumentError(
          absl::StrCat("path variable '", var, "' must be a singular scalar field"));
    }
  }
  if (!r.body.empty() && r.body != "*" && input->FindFieldByName(r.body) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("body '", r.body, "' is not a field of ", input->full_name()));
  }
  if (!r.response_body.empty() &&
      method->output_type()->FindFieldByName(r.response_body) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("response_body '", r.response_body,
                                                   "' is not a field of ",
                                                   method->output_type()->full_name()));
  }
  return r;
}

}  // namespace

absl::StatusOr<std::vector<Route>> RoutesForMethod(const pb::MethodDescriptor* method) {
  std::vector<Route> out;
  if (!method->options().HasExtension(google::api::http)) return out;
  const auto& rule = method->options().GetExtension(google::api::http);
  std::vector<const google::api::HttpRule*> rules = {&rule};
  for (const auto& extra : rule.additional_bindings()) rules.push_back(&extra);
  for (const auto* r : rules) {
    auto route = RouteForRule(method, *r);
    if (!route.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(method->full_name(), ": google.api.http: ", route.status().message()));
    }
    out.push_back(std::move(*route));
  }
  return out;
}

absl::StatusOr<RouteTable> RouteTable::Build(
    const std::vector<const pb::ServiceDescriptor*>& services) {
  RouteTable table;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      auto routes = RoutesForMethod(service->method(i));
      if (!routes.ok()) return routes.status();
      for (auto& r : *routes) {
        if (!seen.insert({r.http_method, r.path.text()}).second) {
          return absl::InvalidArgumentError(absl::StrCat(
              service->method(i)->full_name(), ": google.api.http: ", r.label, " is bound twice"));
        }
        table.routes_.push_back(std::make_unique<Route>(std::move(r)));
      }
    }
  }
  // Most specific first, so the first match wins.
  std::stable_sort(table.routes_.begin(), table.routes_.end(), [](const auto& a, const auto& b) {
    return a->path.Specificity() > b->path.Specificity();
  });
  return table;
}

RouteTable::Lookup RouteTable::Find(std::string_view http_method, std::string_view path) const {
  Lookup out;
  std::set<std::string> allow;
  for (const auto& r : routes_) {
    auto bindings = r->path.Match(path);
    if (!bindings) continue;
    if (r->http_method == http_method) {
      out.kind = Lookup::kFound;
      out.route = r.get();
      out.bindings = std::move(*bindings);
      return out;
    }
    allow.insert(r->http_method);
  }
  if (!allow.empty()) {
    out.kind = Lookup::kMethodNotAllowed;
    out.allow.assign(allow.begin(), allow.end());
  }
  return out;
}

bool IsHttpBody(const google::protobuf::Descriptor* message) {
  return message != nullptr && message->full_name() == "google.api.HttpBody";
}

}  // namespace genesis::gateway
