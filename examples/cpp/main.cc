// Calls every Genesis service once over mutual TLS and prints what came back:
//   genesis-example ca=CA.pem cert=ME.crt key=ME.key catalog=HOST:PORT llm_router=HOST:PORT \
//     reasoning=HOST:PORT bot=HOST:PORT voice=HOST:PORT [type=lead]
// (with scripts/run.sh: the addresses it prints, and .genesis/run/tls/{ca,admin}.*).
// Exits 1 when a call that should work fails, or the invalid one is not refused with
// its BadRequest.
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "genesis/bot/v1/bot_manager.grpc.pb.h"
#include "genesis/catalog/v1/catalog.grpc.pb.h"
#include "genesis/llmrouter/v1/llm_router.grpc.pb.h"
#include "genesis/reasoning/v1/reasoning.grpc.pb.h"
#include "genesis/voice/v1/voice.grpc.pb.h"
#include "genesis_calls.h"

namespace catalog = genesis::catalog::v1;
using std::chrono::seconds;

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    if (eq == std::string::npos) {
      std::cerr << "usage: genesis-example ca=... cert=... key=... catalog=... llm_router=... "
                   "reasoning=... bot=... voice=... [type=...]\n";
      return 2;
    }
    args[a.substr(0, eq)] = a.substr(eq + 1);
  }
  example::Tls tls;
  tls.ca = example::ReadFile(args["ca"]);
  tls.cert = example::ReadFile(args["cert"]);
  tls.key = example::ReadFile(args["key"]);
  const std::string type_id = args.count("type") ? args["type"] : "lead";
  int failures = 0;
  auto failed = [&](const std::string& what, const grpc::Status& status) {
    std::cout << what << " failed: " << example::Describe(example::DecodeError(status)) << "\n";
    ++failures;
  };

  // Catalog: a type, an item of it (idempotent with request_id), the item read back.
  auto catalog_stub = catalog::CatalogService::NewStub(example::Connect(args["catalog"], tls));
  catalog::CreateItemTypeRequest create_type;
  create_type.set_item_type_id(type_id);
  create_type.mutable_item_type()->set_display_name("Lead");
  auto* attribute = create_type.mutable_item_type()->add_attributes();
  attribute->set_name("city");
  attribute->set_kind(catalog::ATTRIBUTE_KIND_STRING);
  catalog::ItemType type;
  auto ctx = example::NewContext(seconds(5), "example-create-type");
  if (auto s = catalog_stub->CreateItemType(ctx.get(), create_type, &type); s.ok()) {
    std::cout << "catalog CreateItemType: " << type.name() << "\n";
  } else {
    failed("catalog CreateItemType", s);
  }

  catalog::CreateItemRequest create_item;
  create_item.set_request_id("example-item-1");
  create_item.mutable_item()->set_type(type.name());
  create_item.mutable_item()->set_title("Ana from Recife");
  (*create_item.mutable_item()->mutable_attributes()->mutable_fields())["city"].set_string_value(
      "Recife");
  catalog::Item item;
  ctx = example::NewContext(seconds(5), "example-create-item");
  if (auto s = catalog_stub->CreateItem(ctx.get(), create_item, &item); s.ok()) {
    // The server sends the request id back (a new one if ours was not safe to log).
    const auto& headers = ctx->GetServerInitialMetadata();
    auto id = headers.find("x-request-id");
    std::cout << "catalog CreateItem: " << item.name() << " (x-request-id "
              << (id == headers.end() ? "" : std::string(id->second.data(), id->second.size()))
              << ")\n";
    // A retry with the same request_id (say, after a timeout) creates nothing new.
    catalog::Item again;
    ctx = example::NewContext(seconds(5), "example-create-item-retry");
    if (auto r = catalog_stub->CreateItem(ctx.get(), create_item, &again); r.ok()) {
      std::cout << "catalog CreateItem retried: " << again.name() << "\n";
    } else {
      failed("catalog CreateItem retried", r);
    }
    std::cout << "catalog GetItem: " << example::DescribeItem(*catalog_stub, item.name()) << "\n";
  } else {
    failed("catalog CreateItem", s);
  }

  // An invalid call: an item with neither type nor title. Its details name the fields.
  catalog::CreateItemRequest invalid;
  invalid.mutable_item()->set_body("no type, no title");
  ctx = example::NewContext(seconds(5), "example-invalid");
  catalog::Item ignored;
  grpc::Status s = catalog_stub->CreateItem(ctx.get(), invalid, &ignored);
  example::ErrorDetails error = example::DecodeError(s);
  std::cout << "catalog CreateItem (invalid): " << example::Describe(error) << "\n";
  std::cout << "  BadRequest violations:";
  if (error.bad_request) {
    for (int i = 0; i < error.bad_request->field_violations_size(); ++i) {
      std::cout << (i == 0 ? " " : ", ") << error.bad_request->field_violations(i).field();
    }
  }
  std::cout << "\n";
  if (error.code != grpc::StatusCode::INVALID_ARGUMENT || !error.bad_request ||
      error.bad_request->field_violations_size() == 0) {
    std::cout << "the invalid CreateItem was not refused with a BadRequest\n";
    ++failures;
  }

  // One call on each other service.
  auto router =
      genesis::llmrouter::v1::LlmRouterService::NewStub(example::Connect(args["llm_router"], tls));
  genesis::llmrouter::v1::ListModelsResponse models;
  ctx = example::NewContext(seconds(5), "example-list-models");
  if (auto st = router->ListModels(ctx.get(), {}, &models); st.ok()) {
    std::cout << "llmrouter ListModels: " << models.models_size() << " models"
              << (models.models_size() > 0 ? ", first " + models.models(0).name() : "") << "\n";
  } else {
    failed("llmrouter ListModels", st);
  }

  auto reasoning =
      genesis::reasoning::v1::ReasoningService::NewStub(example::Connect(args["reasoning"], tls));
  genesis::reasoning::v1::ListCasesResponse cases;
  ctx = example::NewContext(seconds(5), "example-list-cases");
  if (auto st = reasoning->ListCases(ctx.get(), {}, &cases); st.ok()) {
    std::cout << "reasoning ListCases: " << cases.cases_size() << " cases\n";
  } else {
    failed("reasoning ListCases", st);
  }

  auto bots = genesis::bot::v1::BotManagerService::NewStub(example::Connect(args["bot"], tls));
  genesis::bot::v1::ListBotsResponse bot_list;
  ctx = example::NewContext(seconds(5), "example-list-bots");
  if (auto st = bots->ListBots(ctx.get(), {}, &bot_list); st.ok()) {
    std::cout << "bot ListBots: " << bot_list.bots_size() << " bots\n";
  } else {
    failed("bot ListBots", st);
  }

  auto voice = genesis::voice::v1::VoiceService::NewStub(example::Connect(args["voice"], tls));
  genesis::voice::v1::ListVoicesResponse voices;
  ctx = example::NewContext(seconds(5), "example-list-voices");
  if (auto st = voice->ListVoices(ctx.get(), {}, &voices); st.ok()) {
    std::cout << "voice ListVoices: " << voices.voices_size() << " voices"
              << (voices.voices_size() > 0 ? ", first " + voices.voices(0).name() : "") << "\n";
  } else {
    failed("voice ListVoices", st);
  }
  return failures == 0 ? 0 : 1;
}
