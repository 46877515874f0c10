// The contracts' annotations, checked from the descriptors of every Genesis
// service so a field or method added later is covered without touching this
// test: every field of every message carries a google.api.field_behavior
// (https://google.aip.dev/203), the resources the Get methods return carry
// google.api.resource, and the `name`/`parent` fields of the requests
// reference one (https://google.aip.dev/123). That the services refuse an
// empty REQUIRED field and ignore OUTPUT_ONLY ones is checked against each
// running service (tests/testing/required_fields.h, in each service's tests).
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "google/api/resource.pb.h"
#include "tests/testing/request_walk.h"

namespace genesis {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

bool IsResource(const Descriptor* d) { return d->options().HasExtension(google::api::resource); }

TEST(FieldBehaviorTest, EveryFieldOfEveryGenesisMessageHasABehavior) {
  std::vector<const Descriptor*> todo;
  for (const auto* fd : testing::ServiceFiles()) {
    for (int i = 0; i < fd->message_type_count(); ++i) todo.push_back(fd->message_type(i));
  }
  int fields = 0;
  while (!todo.empty()) {
    const Descriptor* d = todo.back();
    todo.pop_back();
    for (int i = 0; i < d->nested_type_count(); ++i) {
      if (!d->nested_type(i)->options().map_entry()) todo.push_back(d->nested_type(i));
    }
    for (int i = 0; i < d->field_count(); ++i) {
      EXPECT_GT(d->field(i)->options().ExtensionSize(google::api::field_behavior), 0)
          << d->field(i)->full_name();
      ++fields;
    }
  }
  EXPECT_GT(fields, 500);
}

TEST(FieldBehaviorTest, ResourcesAreAnnotatedAndNamesReferenceThem) {
  int references = 0;
  for (const auto* method : testing::Methods()) {
    const Descriptor* request = method->input_type();
    // Get methods return resources (a report is a computed view of one).
    if (method->name().rfind("Get", 0) == 0 && request->FindFieldByName("name") != nullptr &&
        !absl::EndsWith(method->output_type()->name(), "Report")) {
      const Descriptor* out = method->output_type();
      ASSERT_TRUE(IsResource(out)) << out->full_name();
      const auto& ref =
          request->FindFieldByName("name")->options().GetExtension(google::api::resource_reference);
      EXPECT_EQ(ref.type(), out->options().GetExtension(google::api::resource).type())
          << request->full_name();
    }
    for (const char* field : {"name", "parent"}) {
      const FieldDescriptor* f = request->FindFieldByName(field);
      if (f == nullptr || f->cpp_type() != FieldDescriptor::CPPTYPE_STRING) continue;
      EXPECT_TRUE(f->options().HasExtension(google::api::resource_reference)) << f->full_name();
      ++references;
    }
  }
  EXPECT_GT(references, 30);
}

}  // namespace
}  // namespace genesis
