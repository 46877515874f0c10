// The Voice logic: engine selection and fallback, audio validation and
// conversion, the Converse pipeline (speech to text -> LLM router -> text to
// speech, with stage timings) and the record of interactions. Plain C++ in and
// absl::StatusOr out; no gRPC (grpc_service.h is the transport).
//
// Engine choice: engines are tried in the configured order (Wyoming backends
// first, the embedded ones last); a request goes to the first engine that
// serves its language (and voice; in command mode, an engine with command
// support first). When a Wyoming backend is down (UNAVAILABLE, a passed probe
// or a failed call) and fallback is on, the next engine that serves the
// language answers and the result says `fallback`.
//
// Errors (besides the engines', see engines.h):
//   INVALID_ARGUMENT     bad fields, with a google.rpc.BadRequest (validation.h);
//                        audio that is corrupt, truncated, too long or too large;
//                        no speech recognised in a Converse turn
//   FAILED_PRECONDITION  no engine serves the language (the message lists the
//                        languages that are available); Converse without an
//                        LLM router configured
// Recording an interaction never fails a call: errors are logged and counted.
// Thread-safe.
#pragma once

#include <algorithm>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/base/paging.h"
#include "common/rpc/call_context.h"
#include "services/voice/audio.h"
#include "services/voice/engines/engines.h"
#include "services/voice/metrics.h"
#include "services/voice/reply_client.h"
#include "services/voice/store.h"

namespace genesis::voice {

struct VoiceOptions {
  AudioLimits limits;
  bool fallback_to_embedded = true;
  bool store_audio = false;
  size_t max_text_chars = 5000;
  // Largest audio one Synthesize/Converse response carries. Ordinary prose of
  // max_text_chars speaks for about 6 minutes (16 MB at 22050 Hz, 34 MB at
  // 48 kHz), more than gRPC's usual 4-8 MiB message limit: the server's send
  // limit is raised to fit (SendLimitBytes), and audio beyond this bound (text
  // that expands when spoken, such as long numbers) is INVALID_ARGUMENT on
  // `text` instead of a transport error.
  size_t max_response_audio_bytes = 64 << 20;
  std::string default_language = "en-US";
  std::string default_system_prompt =
      "You are a voice assistant. Your answer will be spoken aloud: answer in one to three short "
      "sentences of plain text, in the language of the question, with no lists, markup or emoji.";
};

// The gRPC send limit the voice server needs: the largest audio response plus
// room for the other fields, and never below the shared `max_message_bytes`.
inline int SendLimitBytes(const VoiceOptions& options, int max_message_bytes) {
  const size_t need = options.max_response_audio_bytes + (64 << 10);
  return static_cast<int>(std::max<size_t>(need, static_cast<size_t>(max_message_bytes)));
}

struct OutputFormat {
  Encoding encoding = Encoding::kWav;  // kUnspecified means WAV
  int sample_rate_hz = 0;              // 0: the engine's rate
};

struct SpeakParams {
  std::string text, voice, language;
  OutputFormat format;
};

struct SpeakResult {
  PcmAudio audio;  // already at the requested rate
  std::string engine, voice, language;
  bool fallback = false;
  absl::Duration processing;
};

struct ListenParams {
  AudioBlob audio;
  std::string audio_field = "audio.data";  // for error messages
  std::string language;
  std::vector<std::string> phrases;
  std::string grammar;
};

struct ListenResult {
  Recognition recognition;
  std::string engine, language;
  bool fallback = false;
  absl::Duration audio_duration, processing;
};

struct ConverseParams {
  ListenParams listen;
  std::string voice;
  OutputFormat reply_format;
  bool sensitive = false;
  std::string system_prompt;
};

enum class ConverseEventType {
  kRunStart = 1,
  kSttStart,
  kSttEnd,
  kLlmStart,
  kLlmEnd,
  kTtsStart,
  kTtsEnd,
  kRunEnd
};

struct ConverseResult {
  ListenResult transcript;
  Reply reply;
  SpeakResult speech;
  std::vector<StageTiming> timings;
  absl::Duration total;
  std::string interaction_id;  // empty when not recorded
};

// What a streamed Converse sees as it happens; `result` holds what is known
// so far. Returning false stops the run (the caller went away).
using ConverseListener = std::function<bool(ConverseEventType type, absl::Duration elapsed,
                                            const ConverseResult& result)>;

struct TranscriptionStream {
  std::unique_ptr<SttSession> session;
  std::string engine, language;
  bool command_mode = false;
};

struct EngineStatus {
  std::string name;
  bool tts = false;
  std::vector<std::string> languages;
  bool embedded = false;
  EngineHealth health;
};

using InteractionPage = Page<InteractionRecord>;

class Voice {
 public:
  // `reply` may be null (Converse then answers FAILED_PRECONDITION).
  Voice(std::vector<std::unique_ptr<TtsEngine>> tts, std::vector<std::unique_ptr<SttEngine>> stt,
        std::unique_ptr<InteractionStore> store, std::unique_ptr<ReplyClient> reply,
        VoiceOptions options, VoiceMetrics metrics);

  absl::StatusOr<SpeakResult> Synthesize(const SpeakParams& params, const CallContext& ctx);
  // One `emit` per sentence, in order; stops with CANCELLED when emit returns false.
  absl::Status StreamSynthesize(
      const SpeakParams& params, const CallContext& ctx,
      const std::function<bool(int index, const std::string& sentence, const SpeakResult& speech,
                               bool last)>& emit);
  absl::StatusOr<ListenResult> Transcribe(const ListenParams& params, const CallContext& ctx);
  // A streamed transcription at `sample_rate_hz` (validated like the rest).
  absl::StatusOr<TranscriptionStream> StartTranscription(const std::string& language,
                                                         const std::vector<std::string>& phrases,
                                                         const std::string& grammar,
                                                         int sample_rate_hz,
                                                         const CallContext& ctx);
  // Records a finished streamed transcription.
  void RecordTranscription(const TranscriptionStream& stream, absl::Duration audio,
                           absl::Duration processing, const CallContext& ctx);
  // `listener` may be empty.
  absl::StatusOr<ConverseResult> Converse(const ConverseParams& params, const CallContext& ctx,
                                          const ConverseListener& listener = nullptr);

  [[nodiscard]] std::vector<VoiceInfo> ListVoices(const std::string& language);
  [[nodiscard]] std::vector<EngineStatus> ListEngines();
  // Display forms of every language some STT engine serves.
  [[nodiscard]] std::vector<std::string> SttLanguages();
  absl::StatusOr<InteractionPage> ListInteractions(int page_size, const std::string& page_token,
                                                   const CallContext& ctx);
  absl::Status Ready(const CallContext& ctx) { return store_->Ping(ctx); }

  [[nodiscard]] const VoiceOptions& options() const { return options_; }
  // Encodes `audio` as the format asks (WAV unless raw PCM was asked for).
  [[nodiscard]] static std::string EncodeOutput(const PcmAudio& audio, const OutputFormat& format);

 private:
  absl::StatusOr<SpeakResult> Speak(const SpeakParams& params, const CallContext& ctx);
  absl::StatusOr<ListenResult> Listen(const ListenParams& params, PcmAudio* decoded,
                                      const CallContext& ctx);
  // Inserts the record within kRecordTimeout (a failure is logged and counted, never the
  // call's); its id, or "" when it was not stored.
  std::string Record(InteractionRecord record, const CallContext& ctx);
  static constexpr absl::Duration kRecordTimeout = absl::Seconds(1);
  void Observe(Stage stage, const std::string& engine, absl::Duration d);

  std::vector<std::unique_ptr<TtsEngine>> tts_;
  std::vector<std::unique_ptr<SttEngine>> stt_;
  std::unique_ptr<InteractionStore> store_;
  std::unique_ptr<ReplyClient> reply_;
  const VoiceOptions options_;
  VoiceMetrics metrics_;
};

}  // namespace genesis::voice
