// The gateway's transcoder (gateway/transcoder.h) on the real routes of the
// build's descriptor set: route lookup, path bindings, query parameters and
// the JSON body into the request message, and responses back into JSON.
// Input: "METHOD /path?query\n" then the body; a first byte '!' instead makes
// the rest the serialized response of the route of the first line.
// Targets the gateway refuses before routing (TargetProblem) are skipped.
// Invariants: a request that builds is a message of the method's input type;
// a refusal is INVALID_ARGUMENT (the client's fault, with what is wrong); a
// response that cannot render is INTERNAL, never a crash.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/dynamic_message.h>

#include "gateway/http/url.h"
#include "gateway/routing/http_rules.h"
#include "gateway/routing/transcoder.h"
#include "tests/fuzz/fuzz_util.h"

#ifndef GENESIS_FUZZ_DESCRIPTOR_SET
#error "GENESIS_FUZZ_DESCRIPTOR_SET names the build's descriptor set"
#endif

namespace {

using namespace genesis::gateway;

struct Fixture {
  std::unique_ptr<Transcoder> transcoder;
  RouteTable routes;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory;
};

const Fixture& F() {
  static const Fixture* f = [] {
    auto set = Transcoder::ReadDescriptorSet(GENESIS_FUZZ_DESCRIPTOR_SET);
    FUZZ_CHECK(set.ok());
    auto transcoder = Transcoder::Create(*set);
    FUZZ_CHECK(transcoder.ok());
    auto routes = RouteTable::Build((*transcoder)->Services());
    FUZZ_CHECK(routes.ok());
    auto* out = new Fixture{std::move(*transcoder), std::move(*routes), nullptr};
    out->factory =
        std::make_unique<google::protobuf::DynamicMessageFactory>(&out->transcoder->pool());
    return out;
  }();
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& f = F();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const bool response = !in.empty() && in[0] == '!';
  if (response) in.remove_prefix(1);
  const size_t nl = in.find('\n');
  const std::string_view line = in.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? "" : in.substr(nl + 1);
  const size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return 0;
  const std::string_view method = line.substr(0, sp);
  const std::string_view target = line.substr(sp + 1);
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);

  // As the gateway does (gateway.cc) before routing: a target whose path or
  // query does not decode to valid UTF-8 without control characters is
  // refused there, so BuildRequest never sees it.
  if (!TargetProblem(target).empty()) return 0;
  auto found = f.routes.Find(method, path);
  if (found.kind != RouteTable::Lookup::kFound) return 0;
  const Route& route = *found.route;
  if (response) {
    auto rendered = f.transcoder->RenderResponse(route, body);
    if (!rendered.ok()) FUZZ_CHECK(rendered.status().code() == absl::StatusCode::kInternal);
    return 0;
  }
  auto built = f.transcoder->BuildRequest(route, found.bindings, query, body, "application/json");
  if (!built.ok()) {
    FUZZ_CHECK(built.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(!built.status().message().empty());
    return 0;
  }
  std::unique_ptr<google::protobuf::Message> message(
      f.factory->GetPrototype(route.method->input_type())->New());
  FUZZ_CHECK(message->ParseFromString(*built));
  return 0;
}
