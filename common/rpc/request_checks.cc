#include "common/rpc/request_checks.h"

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace genesis {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Deeper nesting is cut by gRPC's own parser long before this.
constexpr int kMaxDepth = 64;

std::string Known(const EnumDescriptor* e) {
  std::vector<std::string> names;
  for (int i = 0; i < e->value_count(); ++i) names.push_back(e->value(i)->name());
  return absl::StrJoin(names, ", ");
}

void AddUnknown(const FieldDescriptor* field, int value, const std::string& path,
                FieldViolations* violations) {
  violations->Add(path,
                  absl::StrCat("unknown value ", value, " of ", field->enum_type()->full_name(),
                               " (known: ", Known(field->enum_type()), ")"));
}

void Walk(const Message& message, const std::string& prefix, int depth,
          FieldViolations* violations) {
  if (depth > kMaxDepth) return;
  const auto* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string path = prefix.empty() ? field->name() : prefix + "." + field->name();
    if (field->is_map()) {
      // Map entries: check the values (keys cannot be enums).
      const FieldDescriptor* value = field->message_type()->map_value();
      if (value->cpp_type() != FieldDescriptor::CPPTYPE_ENUM &&
          value->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        continue;
      }
      const int n = reflection->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        const Message& entry = reflection->GetRepeatedMessage(message, field, i);
        const auto* er = entry.GetReflection();
        const FieldDescriptor* key = field->message_type()->map_key();
        std::string key_text;
        if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          key_text = "\"" + er->GetString(entry, key) + "\"";
        } else {
          key_text = absl::StrCat(i);
        }
        const std::string entry_path = absl::StrCat(path, "[", key_text, "]");
        if (value->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
          const int v = er->GetEnumValue(entry, value);
          if (value->enum_type()->FindValueByNumber(v) == nullptr) {
            AddUnknown(value, v, entry_path, violations);
          }
        } else {
          Walk(er->GetMessage(entry, value), entry_path, depth + 1, violations);
        }
      }
      continue;
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      if (field->is_repeated()) {
        const int n = reflection->FieldSize(message, field);
        for (int i = 0; i < n; ++i) {
          const int v = reflection->GetRepeatedEnumValue(message, field, i);
          if (field->enum_type()->FindValueByNumber(v) == nullptr) {
            AddUnknown(field, v, absl::StrCat(path, "[", i, "]"), violations);
          }
        }
      } else {
        const int v = reflection->GetEnumValue(message, field);
        if (field->enum_type()->FindValueByNumber(v) == nullptr) {
          AddUnknown(field, v, path, violations);
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        const int n = reflection->FieldSize(message, field);
        for (int i = 0; i < n; ++i) {
          Walk(reflection->GetRepeatedMessage(message, field, i), absl::StrCat(path, "[", i, "]"),
               depth + 1, violations);
        }
      } else {
        Walk(reflection->GetMessage(message, field), path, depth + 1, violations);
      }
    }
  }
}

}  // namespace

void CheckEnumValues(const Message& message, const std::string& prefix,
                     FieldViolations* violations) {
  Walk(message, prefix, 0, violations);
}

absl::Status CheckRequest(const Message& request) {
  FieldViolations violations;
  CheckEnumValues(request, "", &violations);
  return violations.ToStatus();
}

}  // namespace genesis
