#include "gateway/routing/backend.h"

#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/rpc/mesh_channel.h"
#include "common/rpc/tls.h"
#include "grpc/health/v1/health.pb.h"

namespace genesis::gateway {
namespace {

// Owns what one asynchronous call needs until its callback runs.
struct PendingCall {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// A server-streaming call over the generic stub's callback bidi API: the one
// request is written with WritesDone, then responses are read one at a time
// as the consumer asks for more. A hold keeps OnDone until reads are over.
class StreamReactor : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                      public StreamCall,
                      public std::enable_shared_from_this<StreamReactor> {
 public:
  explicit StreamReactor(StreamHandlers handlers) : handlers_(std::move(handlers)) {}

  void Begin(grpc::GenericStub* stub, const std::string& grpc_path, std::string request,
             absl::Time deadline, const Metadata& metadata) {
    self_ = shared_from_this();
    context_.set_deadline(absl::ToChronoTime(deadline));
    for (const auto& [k, v] : metadata) context_.AddMetadata(k, v);
    grpc::Slice slice(request);
    request_ = grpc::ByteBuffer(&slice, 1);
    stub->PrepareBidiStreamingCall(&context_, grpc_path, grpc::StubOptions(), this);
    AddHold();
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&response_);
    StartCall();
  }

  void Cancel() override { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return RemoveHold();
    handlers_.on_message(Flatten(response_),
                         [self = shared_from_this()] { self->StartRead(&self->response_); });
  }

  void OnDone(const grpc::Status& status) override {
    auto keep = std::move(self_);  // may be the last reference
    handlers_.on_done(status);
  }

 private:
  StreamHandlers handlers_;
  grpc::ClientContext context_;
  grpc::ByteBuffer request_, response_;
  std::shared_ptr<StreamReactor> self_;  // alive until OnDone
};

}  // namespace

std::shared_ptr<StreamCall> Backend::CallStream(const std::string&, std::string, absl::Time,
                                                const Metadata&, StreamHandlers handlers) {
  handlers.on_done(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "streaming is not supported"));
  return nullptr;
}

std::shared_ptr<StreamCall> GrpcBackend::CallStream(const std::string& grpc_path,
                                                    std::string request, absl::Time deadline,
                                                    const Metadata& metadata,
                                                    StreamHandlers handlers) {
  auto call = std::make_shared<StreamReactor>(std::move(handlers));
  call->Begin(&stub_, grpc_path, std::move(request), deadline, metadata);
  return call;
}

GrpcBackend::GrpcBackend(const std::string& address, int max_request_bytes, int max_response_bytes,
                         std::shared_ptr<grpc::ChannelCredentials> credentials)
    : channel_(MakeMeshChannel(address, std::move(credentials),
                               {.max_receive_message_bytes = max_response_bytes,
                                .max_send_message_bytes = max_request_bytes})),
      stub_(channel_) {}

void GrpcBackend::Call(const std::string& grpc_path, std::string request, absl::Time deadline,
                       const Metadata& metadata,
                       std::function<void(grpc::Status, std::string)> done) {
  auto call = std::make_shared<PendingCall>();
  call->context.set_deadline(absl::ToChronoTime(deadline));
  for (const auto& [k, v] : metadata) call->context.AddMetadata(k, v);
  grpc::Slice slice(request);
  call->request = grpc::ByteBuffer(&slice, 1);
  stub_.UnaryCall(&call->context, grpc_path, grpc::StubOptions(), &call->request, &call->response,
                  [call, done = std::move(done)](grpc::Status status) {
                    done(status, status.ok() ? Flatten(call->response) : std::string());
                  });
}

void GrpcBackend::CallIdempotent(const std::string& grpc_path, std::string request,
                                 absl::Time deadline, const Metadata& metadata, bool idempotent,
                                 std::function<void(grpc::Status, std::string)> done) {
  if (!idempotent) {
    return Call(grpc_path, std::move(request), deadline, metadata, std::move(done));
  }
  // What the attempts share; each one is a new call, which round_robin
  // sends to the next connected address.
  struct Attempts {
    GrpcBackend* backend;
    std::string grpc_path, request;
    absl::Time deadline;
    Metadata metadata;
    std::function<void(grpc::Status, std::string)> done;
    int left = kMeshRetryAttempts;

    static void Start(const std::shared_ptr<Attempts>& self) {
      --self->left;
      self->backend->Call(
          self->grpc_path, self->request, self->deadline, self->metadata,
          [self](grpc::Status status, std::string response) {
            // CANCELLED: the gateway cancels no unary call, so it
            // came from a replica shutting down that had not started it.
            const auto code = status.error_code();
            if ((code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::CANCELLED) &&
                self->left > 0 && absl::Now() < self->deadline) {
              return Start(self);
            }
            self->done(std::move(status), std::move(response));
          });
    }
  };
  auto attempts = std::make_shared<Attempts>(Attempts{.backend = this,
                                                      .grpc_path = grpc_path,
                                                      .request = std::move(request),
                                                      .deadline = deadline,
                                                      .metadata = metadata,
                                                      .done = std::move(done)});
  Attempts::Start(attempts);
}

void GrpcBackend::CheckHealth(const std::string& service, absl::Time deadline,
                              std::function<void(bool)> done) {
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  Call("/grpc.health.v1.Health/Check", req.SerializeAsString(), deadline, {},
       [done = std::move(done)](grpc::Status status, std::string response) {
         grpc::health::v1::HealthCheckResponse res;
         done(status.ok() && res.ParseFromString(response) &&
              res.status() == grpc::health::v1::HealthCheckResponse::SERVING);
       });
}

absl::StatusOr<std::map<std::string, std::vector<std::string>>> ParseBackendList(
    const std::string& list) {
  std::map<std::string, std::vector<std::string>> out;
  for (absl::string_view entry : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    std::pair<std::string, std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    std::vector<std::string> addresses;
    for (absl::string_view a : absl::StrSplit(kv.second, '|')) {
      addresses.emplace_back(absl::StripAsciiWhitespace(a));
    }
    bool ok = !kv.first.empty() && !out.contains(kv.first);
    for (const auto& a : addresses) ok = ok && a.find(':') != std::string::npos && a.size() > 2;
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", entry,
          "': want <package.Service>=<host>:<port>[|<host>:<port>...], once per service"));
    }
    out[kv.first] = std::move(addresses);
  }
  return out;
}

RoundRobinBackend::RoundRobinBackend(std::vector<Backend*> backends)
    : backends_(std::move(backends)) {}

Backend* RoundRobinBackend::Next(size_t* index) {
  *index = next_.fetch_add(1, std::memory_order_relaxed) % backends_.size();
  return backends_[*index];
}

void RoundRobinBackend::Call(const std::string& grpc_path, std::string request, absl::Time deadline,
                             const Metadata& metadata,
                             std::function<void(grpc::Status, std::string)> done) {
  CallIdempotent(grpc_path, std::move(request), deadline, metadata, false, std::move(done));
}

void RoundRobinBackend::CallIdempotent(const std::string& grpc_path, std::string request,
                                       absl::Time deadline, const Metadata& metadata,
                                       bool idempotent,
                                       std::function<void(grpc::Status, std::string)> done) {
  size_t i;
  Backend* first = Next(&i);
  if (!idempotent || backends_.size() < 2) {
    return first->Call(grpc_path, std::move(request), deadline, metadata, std::move(done));
  }
  // One retry, on the next address, only for UNAVAILABLE (nothing was done).
  Backend* second = backends_[(i + 1) % backends_.size()];
  std::string copy = request;
  first->Call(
      grpc_path, std::move(request), deadline, metadata,
      [second, grpc_path, copy = std::move(copy), deadline, metadata, done = std::move(done)](
          grpc::Status status, std::string response) mutable {
        if (status.error_code() != grpc::StatusCode::UNAVAILABLE || absl::Now() >= deadline) {
          return done(std::move(status), std::move(response));
        }
        second->Call(grpc_path, std::move(copy), deadline, metadata, std::move(done));
      });
}

std::shared_ptr<StreamCall> RoundRobinBackend::CallStream(const std::string& grpc_path,
                                                          std::string request, absl::Time deadline,
                                                          const Metadata& metadata,
                                                          StreamHandlers handlers) {
  size_t i;
  return Next(&i)->CallStream(grpc_path, std::move(request), deadline, metadata,
                              std::move(handlers));
}

void RoundRobinBackend::CheckHealth(const std::string& service, absl::Time deadline,
                                    std::function<void(bool)> done) {
  struct State {
    std::atomic<size_t> pending;
    std::atomic<bool> any{false};
    std::function<void(bool)> done;
  };
  auto state = std::make_shared<State>();
  state->pending = backends_.size();
  state->done = std::move(done);
  for (Backend* b : backends_) {
    b->CheckHealth(service, deadline, [state](bool ok) {
      if (ok) state->any = true;
      if (state->pending.fetch_sub(1) == 1) state->done(state->any.load());
    });
  }
}

std::string AddressEnvFor(const std::string& service_full_name) {
  std::vector<std::string> parts = absl::StrSplit(service_full_name, '.');
  if (parts.size() < 3 || parts[0] != "genesis") return "";
  return absl::StrCat("GENESIS_", absl::AsciiStrToUpper(parts[1]), "_ADDR");
}

}  // namespace genesis::gateway
