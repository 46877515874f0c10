// Gateway::ServeOpenAi: the OpenAI-compatible front door (openai.h) with the
// same authentication, RBAC and rate limits as every other route.
#include "absl/strings/str_cat.h"
#include "common/runtime/logging.h"
#include "gateway/gateway.h"
#include "gateway/http/errors.h"
#include "gateway/openai/openai.h"

namespace genesis::gateway {

namespace v1 = genesis::llmrouter::v1;

namespace {

HttpResponse OpenAiError(const google::rpc::Status& status) {
  HttpResponse r;
  r.status = HttpStatusFromCode(status.code());
  r.body = openai::ErrorJson(status);
  // The same Retry-After as every route: the backend's RetryInfo.
  if (auto seconds = RetryAfterSeconds(status)) {
    r.headers.emplace_back("retry-after", absl::StrCat(*seconds));
  }
  return r;
}

google::rpc::Status Status(absl::StatusCode code, std::string message) {
  google::rpc::Status s;
  s.set_code(static_cast<int>(code));
  s.set_message(std::move(message));
  return s;
}

}  // namespace

void Gateway::ServeOpenAi(const HttpRequest& request, const std::string& path,
                          const std::string& request_id, Finish finish) {
  const bool chat = path == "/v1/chat/completions";
  const std::string label = absl::StrCat(request.method, " ", path);
  std::shared_ptr<const RouteSnapshot> snap = snapshot();
  const auto* service = snap->transcoder->pool().FindServiceByName(options_.openai.service);
  if (service == nullptr) {
    finish(label, OpenAiError(Status(absl::StatusCode::kNotFound,
                                     absl::StrCat(options_.openai.service,
                                                  " is not among the gateway's services"))));
    return;
  }
  Exchange ex;
  ex.request = &request;
  ex.path = path;
  ex.label = label;
  ex.service = service;
  if (Outcome refused = Admit(ex)) {
    HttpResponse r = OpenAiError(openai::StatusFromJson(refused->body, refused->status));
    r.status = refused->status;
    r.headers = std::move(refused->headers);
    finish(label, std::move(r));
    return;
  }
  const Identity& identity = ex.identity;
  const HeaderList& limit_headers = ex.limit_headers;
  auto timeout = RequestTimeout(request.headers, options_.default_timeout, options_.max_timeout);
  if (!timeout.ok()) {
    finish(label, OpenAiError(RpcStatusFromAbsl(timeout.status())));
    return;
  }
  auto backend = snap->backends.find(service->full_name());
  if (backend == snap->backends.end()) {
    CountBackendError(service->full_name(), grpc::StatusCode::UNAVAILABLE);
    finish(label, OpenAiError(
                      Status(absl::StatusCode::kUnavailable,
                             absl::StrCat("no backend is configured for ", service->full_name()))));
    return;
  }
  const Metadata metadata = CallMetadata(request_id, identity, request);
  const absl::Time deadline = absl::Now() + *timeout;
  const std::string prefix = absl::StrCat("/", service->full_name(), "/");
  auto count_error = [this, name = service->full_name()](const grpc::Status& s) {
    CountBackendError(name, s.error_code());
  };

  if (!chat) {
    v1::ListModelsRequest list;
    list.set_page_size(1000);
    backend->second->CallIdempotent(
        prefix + "ListModels", list.SerializeAsString(), deadline, metadata, true,
        [label, finish, count_error, limit_headers](grpc::Status status, std::string bytes) {
          v1::ListModelsResponse models;
          HttpResponse r;
          if (!status.ok()) {
            count_error(status);
            r = OpenAiError(RpcStatusFromGrpc(status));
          } else if (!models.ParseFromString(bytes)) {
            r = OpenAiError(
                Status(absl::StatusCode::kInternal, "the LLM router sent a malformed model list"));
          } else {
            r.body = openai::ModelListJson(models);
          }
          r.headers.insert(r.headers.begin(), limit_headers.begin(), limit_headers.end());
          finish(label, std::move(r));
        });
    return;
  }

  auto parsed = openai::ParseChatRequest(request.body, request.headers, identity.subject);
  if (!parsed.ok()) {
    HttpResponse r = OpenAiError(RpcStatusFromAbsl(parsed.status()));
    r.headers.insert(r.headers.begin(), limit_headers.begin(), limit_headers.end());
    finish(label, std::move(r));
    return;
  }
  const std::string id = absl::StrCat("chatcmpl-", NewRequestId());
  const absl::Time created = absl::Now();
  if (!parsed->stream) {
    backend->second->Call(
        prefix + "Complete", parsed->request.SerializeAsString(), deadline, metadata,
        [label, finish, count_error, limit_headers, id, created](grpc::Status status,
                                                                 std::string bytes) {
          v1::CompleteResponse response;
          HttpResponse r;
          if (!status.ok()) {
            count_error(status);
            r = OpenAiError(RpcStatusFromGrpc(status));
          } else if (!response.ParseFromString(bytes)) {
            r = OpenAiError(
                Status(absl::StatusCode::kInternal, "the LLM router sent a malformed completion"));
          } else {
            r.body = openai::CompletionJson(response, id, created);
          }
          r.headers.insert(r.headers.begin(), limit_headers.begin(), limit_headers.end());
          finish(label, std::move(r));
        });
    return;
  }

  // StreamCompleteRequest has CompleteRequest's fields with the same numbers.
  auto encoder = std::make_shared<openai::ChunkEncoder>(id, created, parsed->requested_model,
                                                        parsed->include_usage);
  auto relay = std::make_shared<StreamRelay>(
      StreamFormat::kOpenAi, [encoder](const std::string& m) { return encoder->Encode(m); },
      [](const grpc::Status& s) { return openai::ErrorJson(RpcStatusFromGrpc(s)); });
  std::weak_ptr<StreamRelay> weak = relay;
  auto handlers = relay->Handlers(
      [weak, label, finish, limit_headers] {
        HttpResponse r;
        r.content_type = StreamContentType(StreamFormat::kOpenAi);
        r.headers = limit_headers;
        r.headers.emplace_back("cache-control", "no-cache");
        r.stream = weak.lock();
        finish(label, std::move(r));
      },
      [label, finish, limit_headers, count_error](const grpc::Status& s) {
        count_error(s);
        HttpResponse r = OpenAiError(RpcStatusFromGrpc(s));
        r.headers.insert(r.headers.begin(), limit_headers.begin(), limit_headers.end());
        finish(label, std::move(r));
      },
      [count_error](const grpc::Status& s) {
        if (!s.ok() && s.error_code() != grpc::StatusCode::CANCELLED) count_error(s);
      });
  relay->SetCall(backend->second->CallStream(prefix + "StreamComplete",
                                             parsed->request.SerializeAsString(), deadline,
                                             metadata, std::move(handlers)));
}

}  // namespace genesis::gateway
