// google.rpc.ErrorInfo reasons raised by shared code (attached with
// WithReason, status.h). Every service may return them; each is listed in
// proto/README.md ("Error reasons"), next to the rule for the rest: an error
// whose code names no more specific reason carries the code's name.
#pragma once

namespace genesis::reasons {

// The service's PostgreSQL is unreachable, read-only or out of connections.
inline constexpr char kDatabaseUnavailable[] = "DATABASE_UNAVAILABLE";
// Another Genesis service this one called is unavailable (metadata `service`).
inline constexpr char kDependencyUnavailable[] = "DEPENDENCY_UNAVAILABLE";
// A create method's request_id was used before for a different request
// (metadata request_id; common/base/request_key.h).
inline constexpr char kRequestIdReused[] = "REQUEST_ID_REUSED";
// The server's work queue is full.
inline constexpr char kServerOverloaded[] = "SERVER_OVERLOADED";

}  // namespace genesis::reasons
