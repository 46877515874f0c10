// The storage the Voice logic needs: a record of every interaction
// (metadata: kind, language, audio duration, stage latencies, subject; the
// audio itself only when the service is configured to keep it).
// Implementations: PgInteractionStore (pg_store.h), FakeInteractionStore
// (tests/fake_store.h). Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/call_context.h"

namespace genesis::voice {

enum class InteractionKind { kUnspecified = 0, kSynthesize = 1, kTranscribe = 2, kConverse = 3 };
enum class Stage { kUnspecified = 0, kStt = 1, kLlm = 2, kTts = 3 };

struct StageTiming {
  Stage stage = Stage::kUnspecified;
  std::string engine;
  absl::Duration duration;
};

struct InteractionRecord {
  std::string id;  // 32 hex digits
  InteractionKind kind = InteractionKind::kUnspecified;
  absl::Time create_time;
  std::string language;
  std::string subject;
  absl::Duration audio_duration;
  std::vector<StageTiming> stages;
  std::string audio;  // WAV; empty unless audio is kept
  int64_t stored_audio_bytes = 0;
};

// Where a page starts: after this (create_time, id), newest first.
using InteractionCursor = std::pair<absl::Time, std::string>;

class InteractionStore {
 public:
  virtual ~InteractionStore() = default;
  // ALREADY_EXISTS for a repeated id; UNAVAILABLE/DEADLINE_EXCEEDED from the database.
  virtual absl::Status Insert(const InteractionRecord& record, const CallContext& ctx) = 0;
  // Up to `limit` records older than `after` (all when nullopt), newest first,
  // without their audio (stored_audio_bytes tells its size).
  virtual absl::StatusOr<std::vector<InteractionRecord>> List(
      int limit, const std::optional<InteractionCursor>& after, const CallContext& ctx) = 0;
  virtual absl::Status Ping(const CallContext& ctx) = 0;
};

}  // namespace genesis::voice
