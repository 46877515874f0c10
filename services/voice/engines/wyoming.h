// The Wyoming protocol (https://github.com/rhasspy/wyoming): the framing, a
// client, and engines over it for wyoming-faster-whisper (speech to text) and
// wyoming-piper (text to speech).
//
// An event is one JSON header line `{"type": ..., "data": {...},
// "data_length": N, "payload_length": M}\n`, then N bytes of JSON data (merged
// into `data`) and M bytes of payload (PCM audio for audio-chunk). Reads are
// buffered and bounded: a header line longer than max_header_bytes, or data
// or payload above their limits, is refused (the connection is then unusable).
// Every read and write has a deadline.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/voice/engines/engines.h"

namespace genesis::voice {

struct WyomingEvent {
  std::string type;
  nlohmann::json data = nlohmann::json::object();
  std::string payload;
};

struct WyomingLimits {
  size_t max_header_bytes = 64 << 10;
  size_t max_data_bytes = 1 << 20;
  size_t max_payload_bytes = 8 << 20;
};

// One TCP connection speaking Wyoming events. Not thread-safe; owns the fd.
class WyomingConnection {
 public:
  WyomingConnection(int fd, WyomingLimits limits) : fd_(fd), limits_(limits) {}
  ~WyomingConnection();
  WyomingConnection(const WyomingConnection&) = delete;
  WyomingConnection& operator=(const WyomingConnection&) = delete;

  // The next event. UNAVAILABLE when the peer closed or broke the framing
  // (bad JSON, no type, sizes over the limits: the message says which),
  // DEADLINE_EXCEEDED when nothing complete arrived by `deadline`.
  absl::StatusOr<WyomingEvent> Read(absl::Time deadline);
  // Writes `event` (data as a data_length block, payload after it).
  absl::Status Write(const WyomingEvent& event, absl::Time deadline);
  // The bytes of `event` on the wire (exposed for tests and the simulator).
  static std::string Encode(const WyomingEvent& event);

  [[nodiscard]] int fd() const { return fd_; }

 private:
  // Fills buf_ until it holds `n` bytes.
  absl::Status Fill(size_t n, absl::Time deadline);

  int fd_;
  WyomingLimits limits_;
  std::string buf_;
};

// Connects to "host:port" by `deadline`. UNAVAILABLE when it cannot.
absl::StatusOr<std::unique_ptr<WyomingConnection>> WyomingConnect(const std::string& address,
                                                                  absl::Time deadline,
                                                                  WyomingLimits limits);

// What a Wyoming server says it offers (its `info`).
struct WyomingInfo {
  std::vector<std::string> asr_languages;  // display form
  std::vector<VoiceInfo> tts_voices;
  std::string asr_program, tts_program;
};
[[nodiscard]] WyomingInfo ParseWyomingInfo(const nlohmann::json& data, const std::string& engine);

// A client for one Wyoming server: one connection per call. Thread-safe.
class WyomingClient {
 public:
  WyomingClient(std::string address, absl::Duration timeout, WyomingLimits limits = {})
      : address_(std::move(address)), timeout_(timeout), limits_(limits) {}

  absl::StatusOr<WyomingInfo> Describe(const CallContext& ctx);
  // transcribe + audio-start/chunk/stop -> transcript text.
  absl::StatusOr<std::string> Transcribe(const PcmAudio& audio, const std::string& language,
                                         const CallContext& ctx);
  // synthesize -> audio-start/chunk/stop.
  absl::StatusOr<PcmAudio> Synthesize(const std::string& text, const std::string& voice,
                                      const std::string& language, const CallContext& ctx);
  [[nodiscard]] const std::string& address() const { return address_; }

 private:
  absl::Time Deadline(const CallContext& ctx) const;
  std::string address_;
  absl::Duration timeout_;
  WyomingLimits limits_;
};

// Health and capabilities of a Wyoming backend, refreshed by Probe().
class WyomingBackend {
 public:
  explicit WyomingBackend(std::unique_ptr<WyomingClient> client) : client_(std::move(client)) {}
  // Asks `describe`; updates health, languages and voices.
  void Probe(absl::Duration timeout);
  // Marks the backend down after a failed call (until the next good probe).
  void MarkDown(const std::string& why);
  [[nodiscard]] EngineHealth Health();
  [[nodiscard]] WyomingInfo Info();
  [[nodiscard]] WyomingClient* client() { return client_.get(); }

 private:
  std::unique_ptr<WyomingClient> client_;
  std::mutex mu_;
  EngineHealth health_{false, "not probed yet", absl::InfinitePast()};
  WyomingInfo info_;
};

class WyomingTts final : public TtsEngine {
 public:
  explicit WyomingTts(WyomingBackend* backend) : backend_(backend) {}
  [[nodiscard]] std::string name() const override {
    return "wyoming:" + backend_->client()->address();
  }
  [[nodiscard]] bool embedded() const override { return false; }
  [[nodiscard]] std::vector<VoiceInfo> Voices() override { return backend_->Info().tts_voices; }
  [[nodiscard]] EngineHealth Health() override { return backend_->Health(); }
  absl::StatusOr<Speech> Synthesize(const SpeechRequest& request, const CallContext& ctx) override;

 private:
  WyomingBackend* backend_;
};

class WyomingStt final : public SttEngine {
 public:
  explicit WyomingStt(WyomingBackend* backend) : backend_(backend) {}
  [[nodiscard]] std::string name() const override {
    return "wyoming:" + backend_->client()->address();
  }
  [[nodiscard]] bool embedded() const override { return false; }
  [[nodiscard]] std::vector<std::string> Languages() override {
    return backend_->Info().asr_languages;
  }
  [[nodiscard]] bool SupportsCommandMode() const override { return false; }
  [[nodiscard]] EngineHealth Health() override { return backend_->Health(); }
  absl::StatusOr<Recognition> Transcribe(const PcmAudio& audio, const RecognitionConfig& config,
                                         const CallContext& ctx) override;

 private:
  WyomingBackend* backend_;
};

}  // namespace genesis::voice
