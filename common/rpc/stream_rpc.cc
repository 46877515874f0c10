#include "common/rpc/stream_rpc.h"

namespace genesis {

ServerStreamDispatcher::ServerStreamDispatcher(std::string service, WorkerPool* pool,
                                               MetricsRegistry* registry,
                                               absl::Duration max_deadline, IdentityTrust trust)
    : pool_(pool), path_(std::move(service), registry, max_deadline, std::move(trust)) {}

}  // namespace genesis
