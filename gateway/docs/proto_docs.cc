#include "gateway/docs/proto_docs.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace genesis::gateway {
namespace {

using google::protobuf::FieldDescriptor;
using nlohmann::json;

template <typename D>
std::string Comment(const D* d) {
  google::protobuf::SourceLocation loc;
  if (d == nullptr || !d->GetSourceLocation(&loc)) return "";
  // "// a\n// b" arrives as " a\n b\n".
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(loc.leading_comments, '\n')) {
    lines.emplace_back(absl::StripAsciiWhitespace(line));
  }
  return std::string(absl::StripAsciiWhitespace(absl::StrJoin(lines, "\n")));
}

}  // namespace

std::string ProtoComment(const google::protobuf::Descriptor* d) { return Comment(d); }
std::string ProtoComment(const google::protobuf::FieldDescriptor* d) { return Comment(d); }
std::string ProtoComment(const google::protobuf::EnumDescriptor* d) { return Comment(d); }
std::string ProtoComment(const google::protobuf::ServiceDescriptor* d) { return Comment(d); }
std::string ProtoComment(const google::protobuf::MethodDescriptor* d) { return Comment(d); }

bool HasFieldBehavior(const FieldDescriptor* f, google::api::FieldBehavior behavior) {
  const auto& options = f->options();
  for (int i = 0; i < options.ExtensionSize(google::api::field_behavior); ++i) {
    if (options.GetExtension(google::api::field_behavior, i) == behavior) return true;
  }
  return false;
}

FieldDoc DocOf(const FieldDescriptor* f) {
  FieldDoc doc;
  std::vector<std::string> kept;
  for (absl::string_view line : absl::StrSplit(Comment(f), '\n')) {
    if (absl::ConsumePrefix(&line, "Example:")) {
      line = absl::StripAsciiWhitespace(line);
      doc.example = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (doc.example.is_discarded()) doc.example = std::string(line);
      continue;
    }
    kept.emplace_back(line);
  }
  doc.description = std::string(absl::StripAsciiWhitespace(absl::StrJoin(kept, "\n")));
  if (HasFieldBehavior(f, google::api::IMMUTABLE)) {
    absl::StrAppend(&doc.description, doc.description.empty() ? "" : "\n\n",
                    "Immutable: set when the resource is created, never changed afterwards.");
  }
  // 64-bit integers are JSON strings in the proto3 mapping.
  if (doc.example.is_number() && (f->cpp_type() == FieldDescriptor::CPPTYPE_INT64 ||
                                  f->cpp_type() == FieldDescriptor::CPPTYPE_UINT64)) {
    doc.example = doc.example.dump();
  }
  return doc;
}

}  // namespace genesis::gateway
