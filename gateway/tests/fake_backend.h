// A Backend for the gateway's unit tests: unary replies from a table keyed by
// gRPC path, server streams played from a script, and a record of the last
// call (path, request bytes, metadata). Answers synchronously.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/http/streaming.h"
#include "gateway/routing/backend.h"

namespace genesis::gateway::testing {

class FakeBackend : public Backend {
 public:
  struct Reply {
    grpc::Status status;
    std::string response;
  };
  struct Script {
    std::vector<std::string> messages;
    grpc::Status status;
  };
  class FakeCall : public StreamCall {
   public:
    void Cancel() override { cancelled = true; }
    bool cancelled = false;
  };

  void Call(const std::string& grpc_path, std::string request, absl::Time, const Metadata& metadata,
            std::function<void(grpc::Status, std::string)> done) override {
    last_path = grpc_path;
    last_request = std::move(request);
    last_metadata = metadata;
    ++calls;
    auto it = replies.find(grpc_path);
    if (it == replies.end()) return done(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "?"), "");
    done(it->second.status, it->second.response);
  }
  std::shared_ptr<StreamCall> CallStream(const std::string& grpc_path, std::string request,
                                         absl::Time, const Metadata& metadata,
                                         StreamHandlers handlers) override {
    last_path = grpc_path;
    last_request = std::move(request);
    last_metadata = metadata;
    ++calls;
    call_ = std::make_shared<FakeCall>();
    handlers_ = std::move(handlers);
    script_ = streams[grpc_path];
    Next(0);
    return call_;
  }
  void CheckHealth(const std::string&, absl::Time, std::function<void(bool)> done) override {
    done(true);
  }

  // The value of metadata `key`, or "" when absent.
  [[nodiscard]] std::string MetadataValue(const std::string& key) const {
    for (const auto& [k, v] : last_metadata) {
      if (k == key) return v;
    }
    return "";
  }

  std::map<std::string, Reply> replies;
  std::map<std::string, Script> streams;
  std::string last_path, last_request;
  Metadata last_metadata;
  int calls = 0;

 private:
  void Next(size_t i) {
    if (i < script_.messages.size() && !call_->cancelled) {
      handlers_.on_message(script_.messages[i], [this, i] { Next(i + 1); });
      return;
    }
    handlers_.on_done(call_->cancelled ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")
                                       : script_.status);
  }
  std::shared_ptr<FakeCall> call_;
  StreamHandlers handlers_;
  Script script_;
};

// Collects a streamed body; every write succeeds at once.
class CollectingWriter : public BodyWriter {
 public:
  void Write(std::string chunk, std::function<void(bool)> written) override {
    body += chunk;
    written(true);
  }
  void Finish() override { finished = true; }
  std::string body;
  bool finished = false;
};

}  // namespace genesis::gateway::testing
