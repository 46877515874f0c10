// The engine interfaces the Voice logic speaks and listens through.
//
// A TtsEngine turns text into PcmAudio; an SttEngine turns PcmAudio into a
// transcript, in one go or as a stream (SttSession). The embedded engines
// (espeak-ng, pocketsphinx) and the Wyoming clients implement them; tests use
// fakes. Every method may be called from many threads at once: engines
// serialise whatever their library needs.
//
// Errors every engine uses the same way:
//   INVALID_ARGUMENT     the request itself is wrong (unknown voice, a phrase
//                        with a word the engine does not know, a bad grammar)
//   FAILED_PRECONDITION  the engine does not serve the language
//   UNAVAILABLE          a remote engine is unreachable or broke the protocol
//   DEADLINE_EXCEEDED    the caller's deadline passed first
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/call_context.h"
#include "services/voice/audio.h"

namespace genesis::voice {

struct VoiceInfo {
  std::string name;
  std::vector<std::string> languages;  // display form: pt-BR
  std::string engine;
  std::string gender;
};

struct EngineHealth {
  bool healthy = true;
  std::string detail;
  absl::Time checked = absl::InfinitePast();
};

struct SpeechRequest {
  std::string text;
  std::string voice;     // empty: the language's default
  std::string language;  // normalised (pt-br); empty: the voice's
};

struct Speech {
  PcmAudio audio;
  std::string voice;
  std::string language;
};

class TtsEngine {
 public:
  virtual ~TtsEngine() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  [[nodiscard]] virtual bool embedded() const = 0;
  // The voices it offers (may be cached; remote engines answer their last
  // known list).
  [[nodiscard]] virtual std::vector<VoiceInfo> Voices() = 0;
  [[nodiscard]] virtual EngineHealth Health() = 0;
  virtual absl::StatusOr<Speech> Synthesize(const SpeechRequest& request,
                                            const CallContext& ctx) = 0;
};

struct RecognitionConfig {
  std::string language;              // normalised
  std::vector<std::string> phrases;  // command mode
  std::string grammar;               // command mode (JSGF)
  [[nodiscard]] bool command_mode() const { return !phrases.empty() || !grammar.empty(); }
};

struct WordTiming {
  std::string word;
  absl::Duration start, end;
  float confidence = 0;
};

struct Recognition {
  std::string text;
  float confidence = 0;
  std::vector<WordTiming> words;
  bool command_mode = false;
};

// One streamed recognition: audio goes in piece by piece.
class SttSession {
 public:
  virtual ~SttSession() = default;
  // Adds samples at the session's rate.
  virtual absl::Status Feed(const int16_t* samples, size_t count) = 0;
  // The best guess so far (may be empty; engines without partials answer "").
  [[nodiscard]] virtual std::string Partial() = 0;
  // Ends the utterance and returns the final recognition.
  virtual absl::StatusOr<Recognition> Finish(const CallContext& ctx) = 0;
};

class SttEngine {
 public:
  virtual ~SttEngine() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  [[nodiscard]] virtual bool embedded() const = 0;
  [[nodiscard]] virtual std::vector<std::string> Languages() = 0;  // display form
  [[nodiscard]] virtual bool SupportsCommandMode() const = 0;
  [[nodiscard]] virtual EngineHealth Health() = 0;
  virtual absl::StatusOr<Recognition> Transcribe(const PcmAudio& audio,
                                                 const RecognitionConfig& config,
                                                 const CallContext& ctx) = 0;
  // A streamed recognition at `sample_rate_hz`. The default buffers the
  // audio and calls Transcribe at Finish (no partial results).
  virtual absl::StatusOr<std::unique_ptr<SttSession>> StartSession(const RecognitionConfig& config,
                                                                   int sample_rate_hz,
                                                                   const CallContext& ctx);
};

}  // namespace genesis::voice
