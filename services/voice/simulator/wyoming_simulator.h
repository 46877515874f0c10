// A Wyoming server for tests and benchmarks, standing in for
// wyoming-faster-whisper and wyoming-piper: it speaks the real framing over
// TCP, answers `describe` with an info naming its languages and voices,
// answers a transcription with a configured text, and synthesises a tone
// (60 ms per character of text, 22050 Hz). Knobs make it misbehave the ways a
// client must survive: events written in small pieces (split reads), a header
// line padded past any sane limit, or no answer at all.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "services/voice/engines/wyoming_server.h"

namespace genesis::voice {

struct WyomingSimulatorOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string transcript = "turn on the kitchen light";
  std::vector<std::string> asr_languages = {"en", "pt"};
  std::vector<std::string> voices = {"en_US-lessac-medium", "pt_BR-faber-medium"};
  // Write each event in pieces of this many bytes (0: whole).
  size_t write_piece_bytes = 0;
  // Pad every header line with this many bytes of junk.
  size_t header_padding = 0;
  // Never answer transcribe/synthesize (the client must time out).
  bool silent = false;
};

class WyomingSimulator {
 public:
  explicit WyomingSimulator(WyomingSimulatorOptions options);
  absl::Status Start();
  void Stop() { listener_.Stop(); }
  [[nodiscard]] int port() const { return listener_.port(); }
  [[nodiscard]] std::string address() const { return options_.host + ":" + std::to_string(port()); }

  // What the last transcription received (for assertions).
  [[nodiscard]] size_t last_samples() const { return last_samples_.load(); }
  [[nodiscard]] std::string last_language();
  [[nodiscard]] int last_rate() const { return last_rate_.load(); }
  [[nodiscard]] int events() const { return events_.load(); }

 private:
  void Serve(WyomingConnection& conn, const std::atomic<bool>& stopping);
  absl::Status Send(WyomingConnection& conn, const WyomingEvent& ev);

  WyomingSimulatorOptions options_;
  WyomingListener listener_;
  std::atomic<size_t> last_samples_{0};
  std::atomic<int> last_rate_{0};
  std::atomic<int> events_{0};
  std::mutex mu_;
  std::string last_language_;
};

}  // namespace genesis::voice
