// The embedded speech-to-text engine: pocketsphinx (5prealpha API) with the
// Debian en-US models. Free dictation uses the n-gram language model; command
// mode restricts the search to a phrase list or a JSGF grammar given per
// request, which is far more accurate for device commands.
//
// Decoders are expensive to build (the models load in 0.2-1.5 s, ~90 MB
// each) and not thread-safe, so the engine keeps a pool of at most
// `decoders`. They are loaded when first needed (`preload` of them at
// Create): an idle service holds none of their memory, and the call that
// needs a new decoder waits for its load. Once loaded a decoder stays. A call
// that finds them all busy and the pool full waits for a free one until its
// deadline (DEADLINE_EXCEEDED) or the pool's acquire timeout
// (RESOURCE_EXHAUSTED). Audio is resampled to 16 kHz.
//
// Confidence: in dictation, the posterior probability of the best path in the
// lattice (per word: of that word); in command mode 1 when a phrase matched
// (the grammar leaves no competing hypothesis to weigh) and 0 otherwise.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/voice/engines/engines.h"

namespace genesis::voice {

struct PocketsphinxOptions {
  std::string hmm_dir = "/usr/share/pocketsphinx/model/en-us/en-us";
  std::string dict_path = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
  std::string lm_path = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";
  std::string language = "en-US";
  int decoders = 2;  // at most
  int preload = 0;   // loaded by Create (at most `decoders`)
  absl::Duration acquire_timeout = absl::Seconds(10);
  // The most phrases in a phrase list, and the longest grammar.
  size_t max_phrases = 500;
  size_t max_grammar_bytes = 64 << 10;
};

class PocketsphinxStt final : public SttEngine {
 public:
  // Loads `preload` decoders now. FAILED_PRECONDITION naming the model file
  // when one is missing, or when a preloaded decoder cannot load the models.
  static absl::StatusOr<std::unique_ptr<PocketsphinxStt>> Create(PocketsphinxOptions options);
  ~PocketsphinxStt() override;

  [[nodiscard]] std::string name() const override { return "pocketsphinx"; }
  [[nodiscard]] bool embedded() const override { return true; }
  [[nodiscard]] std::vector<std::string> Languages() override { return {options_.language}; }
  [[nodiscard]] bool SupportsCommandMode() const override { return true; }
  [[nodiscard]] EngineHealth Health() override { return {true, "", absl::Now()}; }
  absl::StatusOr<Recognition> Transcribe(const PcmAudio& audio, const RecognitionConfig& config,
                                         const CallContext& ctx) override;
  absl::StatusOr<std::unique_ptr<SttSession>> StartSession(const RecognitionConfig& config,
                                                           int sample_rate_hz,
                                                           const CallContext& ctx) override;

  struct Decoder;
  // Exposed for the session class in the .cc.
  void Release(Decoder* decoder);
  // Decoders loaded so far (for tests and metrics).
  [[nodiscard]] int loaded();

 private:
  explicit PocketsphinxStt(PocketsphinxOptions options);
  absl::StatusOr<Decoder*> Acquire(const CallContext& ctx);
  // Builds one decoder from the models (0.2-1.5 s); FAILED_PRECONDITION
  // naming the model files when pocketsphinx cannot load them.
  absl::StatusOr<std::unique_ptr<Decoder>> Load() const;

  const PocketsphinxOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Decoder>> all_;
  std::vector<Decoder*> free_;
  int loading_ = 0;  // decoders being built outside the lock
};

// The JSGF grammar for a phrase list (exposed for tests): each phrase is
// lower-cased and stripped of punctuation. INVALID_ARGUMENT on "phrases[i]"
// for an empty phrase or one longer than 200 characters.
[[nodiscard]] absl::StatusOr<std::string> PhrasesToJsgf(const std::vector<std::string>& phrases);

}  // namespace genesis::voice
