#include "services/llm_router/grpc_service.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "common/status.h"
#include "services/llm_router/convert.h"

namespace genesis::llmrouter {

grpc::ServerUnaryReactor* LlmRouterGrpcService::Complete(grpc::CallbackServerContext* ctx,
                                                         const v1::CompleteRequest* req,
                                                         v1::CompleteResponse* resp) {
  return dispatcher_->Unary(ctx, "Complete", [=, this](const CallContext& call) {
    auto c = router_->Complete(FromProto(*req), call);
    if (c.ok()) *resp = ToProto(*c);
    return c.status();
  });
}

grpc::ServerWriteReactor<v1::StreamCompleteResponse>* LlmRouterGrpcService::StreamComplete(
    grpc::CallbackServerContext* ctx, const v1::StreamCompleteRequest* req) {
  return stream_dispatcher_->ServerStream<v1::StreamCompleteResponse>(
      ctx, "StreamComplete",
      [=, this](const CallContext& call, StreamWriter<v1::StreamCompleteResponse>& out) {
        v1::StreamCompleteResponse chunk;
        TextSink sink = [&](std::string_view text) {
          if (text.empty()) return true;
          chunk.set_text(std::string(text));
          return out.Write(chunk);  // false: the client went away, stop the model
        };
        auto c = router_->StreamComplete(FromProto(*req), sink, call);
        if (!c.ok()) return c.status();
        v1::StreamCompleteResponse last;
        *last.mutable_summary() = ToProto(*c);
        if (!out.Write(last)) return absl::CancelledError("the client went away");
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::Select(grpc::CallbackServerContext* ctx,
                                                       const v1::SelectRequest* req,
                                                       v1::SelectResponse* resp) {
  return dispatcher_->Unary(ctx, "Select", [=, this](const CallContext& call) {
    auto s = router_->Select(FromProto(req->request()), call);
    if (!s.ok()) {
      // Field paths are relative to the inner request.
      auto violations = FieldViolationsOf(s.status());
      if (violations.empty()) return s.status();
      FieldViolations v;
      for (auto& [field, what] : violations) v.Add("request." + field, what);
      return v.ToStatus();
    }
    *resp = ToProto(*s);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::ListModels(grpc::CallbackServerContext* ctx,
                                                           const v1::ListModelsRequest* req,
                                                           v1::ListModelsResponse* resp) {
  return dispatcher_->Unary(ctx, "ListModels", [=, this](const CallContext&) {
    if (req->page_size() < 0) return InvalidField("page_size", "must not be negative");
    const int size = req->page_size() == 0 ? 100 : std::min(req->page_size(), 1000);
    // The page token is the last model id of the previous page.
    const std::string& after = req->page_token();
    int added = 0;
    std::string last;
    bool more = false;
    for (const auto& m : router_->ListModels()) {  // sorted by id
      if (!after.empty() && m.id <= after) continue;
      if (added == size) {
        more = true;
        break;
      }
      *resp->add_models() = ToProto(m);
      last = m.id;
      ++added;
    }
    if (more) resp->set_next_page_token(last);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::GetModel(grpc::CallbackServerContext* ctx,
                                                         const v1::GetModelRequest* req,
                                                         v1::Model* resp) {
  return dispatcher_->Unary(ctx, "GetModel", [=, this](const CallContext&) {
    auto m = router_->GetModel(req->name());
    if (m.ok()) *resp = ToProto(*m);
    return m.status();
  });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::UpdateModel(grpc::CallbackServerContext* ctx,
                                                            const v1::UpdateModelRequest* req,
                                                            v1::Model* resp) {
  return dispatcher_->Unary(ctx, "UpdateModel", [=, this](const CallContext& call) {
    std::vector<std::string> mask(req->update_mask().paths().begin(),
                                  req->update_mask().paths().end());
    if (mask.empty()) {  // https://google.aip.dev/134: the fields that are set
      const auto& m = req->model();
      if (m.enabled()) mask.push_back("enabled");
      if (m.input_price_per_mtok() != 0) mask.push_back("input_price_per_mtok");
      if (m.output_price_per_mtok() != 0) mask.push_back("output_price_per_mtok");
      if (m.context_window() != 0) mask.push_back("context_window");
      if (m.capabilities_size() > 0) mask.push_back("capabilities");
      if (m.quality() != 0) mask.push_back("quality");
    }
    auto m = router_->UpdateModel(req->model().name(), TunablesFromProto(req->model()), mask, call);
    if (m.ok()) *resp = ToProto(*m);
    return m.status();
  });
}

}  // namespace genesis::llmrouter
