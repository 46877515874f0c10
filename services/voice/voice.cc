#include "services/voice/voice.h"

#include <set>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"
#include "services/voice/reasons.h"
#include "services/voice/validation.h"

namespace genesis::voice {
namespace {

bool Retryable(const absl::Status& st) {
  return absl::IsUnavailable(st) || absl::IsDeadlineExceeded(st);
}

std::string NewId() {
  static thread_local absl::BitGen gen;
  return absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16),
                      absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16));
}

const char* StageName(Stage s) {
  switch (s) {
    case Stage::kStt:
      return "stt";
    case Stage::kLlm:
      return "llm";
    case Stage::kTts:
      return "tts";
    default:
      return "unspecified";
  }
}

bool HasVoice(TtsEngine* e, const std::string& voice) {
  for (const auto& v : e->Voices()) {
    if (absl::AsciiStrToLower(v.name) == absl::AsciiStrToLower(voice)) return true;
  }
  return false;
}

bool SpeaksLanguage(TtsEngine* e, const std::string& language) {
  for (const auto& v : e->Voices()) {
    for (const auto& l : v.languages) {
      if (LanguageMatches(language, l)) return true;
    }
  }
  return false;
}

bool HearsLanguage(SttEngine* e, const std::string& language) {
  for (const auto& l : e->Languages()) {
    if (LanguageMatches(language, l)) return true;
  }
  return false;
}

}  // namespace

Voice::Voice(std::vector<std::unique_ptr<TtsEngine>> tts,
             std::vector<std::unique_ptr<SttEngine>> stt, std::unique_ptr<InteractionStore> store,
             std::unique_ptr<ReplyClient> reply, VoiceOptions options, VoiceMetrics metrics)
    : tts_(std::move(tts)),
      stt_(std::move(stt)),
      store_(std::move(store)),
      reply_(std::move(reply)),
      options_(std::move(options)),
      metrics_(metrics) {}

void Voice::Observe(Stage stage, const std::string& engine, absl::Duration d) {
  if (metrics_.stage_seconds != nullptr) {
    metrics_.stage_seconds->WithLabels({StageName(stage), engine})
        .Observe(absl::ToDoubleSeconds(d));
  }
}

std::string Voice::EncodeOutput(const PcmAudio& audio, const OutputFormat& format) {
  return format.encoding == Encoding::kPcm16 ? EncodePcm16(audio) : EncodeWav(audio);
}

absl::StatusOr<SpeakResult> Voice::Speak(const SpeakParams& params, const CallContext& ctx) {
  const std::string language =
      NormalizeLanguage(params.language.empty() && params.voice.empty() ? options_.default_language
                                                                        : params.language);
  std::vector<TtsEngine*> candidates;
  for (const auto& e : tts_) {
    if (!params.voice.empty() ? HasVoice(e.get(), params.voice)
                              : SpeaksLanguage(e.get(), language)) {
      candidates.push_back(e.get());
    }
  }
  if (candidates.empty()) {
    if (!params.voice.empty()) {
      return InvalidField("voice", absl::StrCat("no engine has a voice '", params.voice,
                                                "'; ListVoices shows the voices"));
    }
    std::set<std::string> langs;
    for (const auto& e : tts_) {
      for (const auto& v : e->Voices()) langs.insert(v.languages.begin(), v.languages.end());
    }
    return WithReason(absl::FailedPreconditionError(
                          absl::StrCat("no text-to-speech engine speaks '", params.language,
                                       "'; available languages: ", absl::StrJoin(langs, ", "))),
                      reasons::kLanguageNotSupported, {{"language", params.language}});
  }
  absl::Status last;
  bool fallback = false;
  for (size_t i = 0; i < candidates.size(); ++i) {
    TtsEngine* e = candidates[i];
    const bool has_next = i + 1 < candidates.size();
    if (!e->embedded() && options_.fallback_to_embedded && has_next && !e->Health().healthy) {
      fallback = true;
      continue;
    }
    const absl::Time start = absl::Now();
    auto speech = e->Synthesize({params.text, params.voice, language}, ctx);
    const absl::Duration took = absl::Now() - start;
    if (!speech.ok()) {
      last = speech.status();
      if (!e->embedded() && options_.fallback_to_embedded && has_next && Retryable(last) &&
          !ctx.Expired()) {
        Logger("voice")->warn("request_id={} {} failed, falling back: {}", ctx.request_id,
                              e->name(), last.message());
        fallback = true;
        continue;
      }
      return last;
    }
    Observe(Stage::kTts, e->name(), took);
    SpeakResult out;
    out.audio = params.format.sample_rate_hz > 0
                    ? Resample(speech->audio, params.format.sample_rate_hz)
                    : std::move(speech->audio);
    out.engine = e->name();
    out.voice = speech->voice;
    out.language = speech->language.empty() ? DisplayLanguage(language) : speech->language;
    out.fallback = fallback;
    out.processing = took;
    if (fallback && metrics_.fallbacks != nullptr) metrics_.fallbacks->WithLabels({"tts"}).Inc();
    if (metrics_.audio_seconds_out != nullptr) {
      metrics_.audio_seconds_out->Inc(absl::ToDoubleSeconds(out.audio.duration()));
    }
    return out;
  }
  return WithReasonFor(
      last.ok() ? absl::UnavailableError("every text-to-speech engine is down") : last,
      absl::StatusCode::kUnavailable, reasons::kEngineUnavailable);
}

absl::StatusOr<SpeakResult> Voice::Synthesize(const SpeakParams& params, const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(ValidateSpeak(params, options_.max_text_chars));
  GENESIS_ASSIGN_OR_RETURN(SpeakResult out, Speak(params, ctx));
  if (const size_t bytes = out.audio.samples.size() * 2;
      bytes > options_.max_response_audio_bytes) {
    return InvalidField(
        "text",
        absl::StrCat("speaks for ",
                     absl::FormatDuration(absl::Trunc(out.audio.duration(), absl::Seconds(1))),
                     ": ", bytes >> 20, " MiB of audio, more than the ",
                     options_.max_response_audio_bytes >> 20,
                     " MiB one response carries; send less text, ask for a lower "
                     "format.sample_rate_hz, or use StreamSynthesize"));
  }
  InteractionRecord r;
  r.kind = InteractionKind::kSynthesize;
  r.language = out.language;
  r.audio_duration = out.audio.duration();
  r.stages = {{Stage::kTts, out.engine, out.processing}};
  if (options_.store_audio) r.audio = EncodeWav(out.audio);
  Record(std::move(r), ctx);
  return out;
}

absl::Status Voice::StreamSynthesize(
    const SpeakParams& params, const CallContext& ctx,
    const std::function<bool(int, const std::string&, const SpeakResult&, bool)>& emit) {
  GENESIS_RETURN_IF_ERROR(ValidateSpeak(params, options_.max_text_chars));
  const std::vector<std::string> sentences = SplitSentences(params.text);
  absl::Duration total_audio, total_processing;
  std::string engine, language;
  for (size_t i = 0; i < sentences.size(); ++i) {
    SpeakParams one = params;
    one.text = sentences[i];
    GENESIS_ASSIGN_OR_RETURN(SpeakResult speech, Speak(one, ctx));
    total_audio += speech.audio.duration();
    total_processing += speech.processing;
    engine = speech.engine;
    language = speech.language;
    if (!emit(static_cast<int>(i), sentences[i], speech, i + 1 == sentences.size())) {
      return absl::CancelledError("the client went away");
    }
  }
  InteractionRecord r;
  r.kind = InteractionKind::kSynthesize;
  r.language = language;
  r.audio_duration = total_audio;
  r.stages = {{Stage::kTts, engine, total_processing}};
  Record(std::move(r), ctx);
  return absl::OkStatus();
}

std::vector<std::string> Voice::SttLanguages() {
  std::set<std::string> langs;
  for (const auto& e : stt_) {
    for (const auto& l : e->Languages()) langs.insert(l);
  }
  return {langs.begin(), langs.end()};
}

absl::StatusOr<ListenResult> Voice::Listen(const ListenParams& params, PcmAudio* decoded,
                                           const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(ValidateListen(params));
  const std::string language =
      NormalizeLanguage(params.language.empty() ? options_.default_language : params.language);
  RecognitionConfig config{language, params.phrases, params.grammar};
  // Engines for the language; in command mode the ones with command support first.
  std::vector<SttEngine*> candidates;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& e : stt_) {
      if (!HearsLanguage(e.get(), language)) continue;
      const bool first_pass = !config.command_mode() || e->SupportsCommandMode();
      if ((pass == 0) == first_pass) candidates.push_back(e.get());
    }
  }
  if (candidates.empty()) {
    const auto langs = SttLanguages();
    const std::string asked = params.language.empty() ? language : params.language;
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "no speech-to-text engine understands '", asked,
            "'; available languages: ", langs.empty() ? "none" : absl::StrJoin(langs, ", "),
            " (configure a Wyoming whisper backend with --wyoming_stt_address for more)")),
        reasons::kLanguageNotSupported, {{"language", asked}});
  }
  GENESIS_ASSIGN_OR_RETURN(*decoded,
                           DecodeAudio(params.audio, options_.limits, params.audio_field));
  if (metrics_.audio_seconds_in != nullptr) {
    metrics_.audio_seconds_in->Inc(absl::ToDoubleSeconds(decoded->duration()));
  }
  absl::Status last;
  bool fallback = false;
  for (size_t i = 0; i < candidates.size(); ++i) {
    SttEngine* e = candidates[i];
    const bool has_next = i + 1 < candidates.size();
    if (!e->embedded() && options_.fallback_to_embedded && has_next && !e->Health().healthy) {
      fallback = true;
      continue;
    }
    const absl::Time start = absl::Now();
    auto rec = e->Transcribe(*decoded, config, ctx);
    const absl::Duration took = absl::Now() - start;
    if (!rec.ok()) {
      last = rec.status();
      if (!e->embedded() && options_.fallback_to_embedded && has_next && Retryable(last) &&
          !ctx.Expired()) {
        Logger("voice")->warn("request_id={} {} failed, falling back: {}", ctx.request_id,
                              e->name(), last.message());
        fallback = true;
        continue;
      }
      return last;
    }
    Observe(Stage::kStt, e->name(), took);
    if (fallback && metrics_.fallbacks != nullptr) metrics_.fallbacks->WithLabels({"stt"}).Inc();
    ListenResult out;
    out.recognition = std::move(*rec);
    out.engine = e->name();
    out.language = DisplayLanguage(language);
    out.fallback = fallback;
    out.audio_duration = decoded->duration();
    out.processing = took;
    return out;
  }
  return WithReasonFor(
      last.ok() ? absl::UnavailableError("every speech-to-text engine is down") : last,
      absl::StatusCode::kUnavailable, reasons::kEngineUnavailable);
}

absl::StatusOr<ListenResult> Voice::Transcribe(const ListenParams& params, const CallContext& ctx) {
  PcmAudio decoded;
  GENESIS_ASSIGN_OR_RETURN(ListenResult out, Listen(params, &decoded, ctx));
  InteractionRecord r;
  r.kind = InteractionKind::kTranscribe;
  r.language = out.language;
  r.audio_duration = out.audio_duration;
  r.stages = {{Stage::kStt, out.engine, out.processing}};
  if (options_.store_audio) r.audio = EncodeWav(decoded);
  Record(std::move(r), ctx);
  return out;
}

absl::StatusOr<TranscriptionStream> Voice::StartTranscription(
    const std::string& language_in, const std::vector<std::string>& phrases,
    const std::string& grammar, int sample_rate_hz, const CallContext& ctx) {
  FieldViolations v;
  CheckLanguage("config.language", language_in, &v);
  CheckCommandMode(phrases, grammar, &v);
  if (sample_rate_hz < options_.limits.min_rate_hz ||
      sample_rate_hz > options_.limits.max_rate_hz) {
    v.Add("config.sample_rate_hz",
          absl::StrCat("is required: ", options_.limits.min_rate_hz, "-",
                       options_.limits.max_rate_hz, " Hz (the rate of the raw PCM chunks)"));
  }
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  const std::string language =
      NormalizeLanguage(language_in.empty() ? options_.default_language : language_in);
  RecognitionConfig config{language, phrases, grammar};
  absl::Status last;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& e : stt_) {
      if (!HearsLanguage(e.get(), language)) continue;
      const bool preferred = (!config.command_mode() || e->SupportsCommandMode()) &&
                             (e->embedded() || e->Health().healthy);
      if ((pass == 0) != preferred) continue;
      auto session = e->StartSession(config, sample_rate_hz, ctx);
      if (!session.ok()) return session.status();
      return TranscriptionStream{std::move(*session), e->name(), DisplayLanguage(language),
                                 config.command_mode()};
    }
  }
  const auto langs = SttLanguages();
  return WithReason(absl::FailedPreconditionError(
                        absl::StrCat("no speech-to-text engine understands '", language_in,
                                     "'; available languages: ", absl::StrJoin(langs, ", "))),
                    reasons::kLanguageNotSupported, {{"language", language_in}});
}

void Voice::RecordTranscription(const TranscriptionStream& stream, absl::Duration audio,
                                absl::Duration processing, const CallContext& ctx) {
  Observe(Stage::kStt, stream.engine, processing);
  if (metrics_.audio_seconds_in != nullptr) {
    metrics_.audio_seconds_in->Inc(absl::ToDoubleSeconds(audio));
  }
  InteractionRecord r;
  r.kind = InteractionKind::kTranscribe;
  r.language = stream.language;
  r.audio_duration = audio;
  r.stages = {{Stage::kStt, stream.engine, processing}};
  Record(std::move(r), ctx);
}

absl::StatusOr<ConverseResult> Voice::Converse(const ConverseParams& params, const CallContext& ctx,
                                               const ConverseListener& listener) {
  const absl::Time start = absl::Now();
  ConverseResult result;
  auto notify = [&](ConverseEventType type) {
    return !listener || listener(type, absl::Now() - start, result);
  };
  auto gone = [] { return absl::CancelledError("the client went away"); };
  {
    FieldViolations v;
    CheckLanguage("language", params.listen.language, &v);
    CheckCommandMode(params.listen.phrases, params.listen.grammar, &v);
    CheckOutputFormat("reply_format", params.reply_format, &v);
    if (params.system_prompt.size() > 8000) {
      v.Add("system_prompt", "is longer than 8000 bytes");
    }
    GENESIS_RETURN_IF_ERROR(v.ToStatus());
  }
  if (reply_ == nullptr) {
    return WithReason(
        absl::FailedPreconditionError("Converse needs the LLM router: start genesis-voice with "
                                      "--llm_router_address"),
        reasons::kLlmRouterNotConfigured);
  }
  if (!notify(ConverseEventType::kRunStart) || !notify(ConverseEventType::kSttStart)) return gone();
  PcmAudio decoded;
  GENESIS_ASSIGN_OR_RETURN(result.transcript, Listen(params.listen, &decoded, ctx));
  result.timings.push_back({Stage::kStt, result.transcript.engine, result.transcript.processing});
  if (!notify(ConverseEventType::kSttEnd)) return gone();
  if (absl::StripAsciiWhitespace(result.transcript.recognition.text).empty()) {
    return InvalidField(params.listen.audio_field,
                        result.transcript.recognition.command_mode
                            ? "none of the phrases was recognised in the audio"
                            : "no speech was recognised in the audio");
  }
  if (!notify(ConverseEventType::kLlmStart)) return gone();
  ReplyRequest ask;
  ask.system_prompt =
      params.system_prompt.empty() ? options_.default_system_prompt : params.system_prompt;
  ask.user_text = result.transcript.recognition.text;
  ask.language = result.transcript.language;
  ask.sensitive = params.sensitive;
  absl::Time t = absl::Now();
  GENESIS_ASSIGN_OR_RETURN(result.reply, reply_->Complete(ask, ctx));
  const absl::Duration llm_took = absl::Now() - t;
  result.timings.push_back({Stage::kLlm, result.reply.model, llm_took});
  Observe(Stage::kLlm, "router", llm_took);
  if (!notify(ConverseEventType::kLlmEnd)) return gone();
  if (absl::StripAsciiWhitespace(result.reply.text).empty()) {
    return WithReason(absl::UnavailableError(absl::StrCat("the model ", result.reply.model,
                                                          " answered with no text; ask again")),
                      reasons::kEmptyModelReply, {{"model", result.reply.model}});
  }
  if (!notify(ConverseEventType::kTtsStart)) return gone();
  SpeakParams speak;
  speak.text = result.reply.text.substr(0, options_.max_text_chars * 4);
  speak.voice = params.voice;
  speak.language = params.voice.empty() ? result.transcript.language : "";
  speak.format = params.reply_format;
  GENESIS_ASSIGN_OR_RETURN(result.speech, Speak(speak, ctx));
  result.timings.push_back({Stage::kTts, result.speech.engine, result.speech.processing});
  if (!notify(ConverseEventType::kTtsEnd)) return gone();
  result.total = absl::Now() - start;
  InteractionRecord r;
  r.kind = InteractionKind::kConverse;
  r.language = result.transcript.language;
  r.audio_duration = result.transcript.audio_duration;
  r.stages = result.timings;
  if (options_.store_audio) r.audio = EncodeWav(decoded);
  result.interaction_id = Record(std::move(r), ctx);
  if (!notify(ConverseEventType::kRunEnd)) return gone();
  return result;
}

std::vector<VoiceInfo> Voice::ListVoices(const std::string& language) {
  std::vector<VoiceInfo> out;
  for (const auto& e : tts_) {
    for (auto& v : e->Voices()) {
      bool keep = language.empty();
      for (const auto& l : v.languages) {
        if (!keep && absl::StartsWith(NormalizeLanguage(l), NormalizeLanguage(language))) {
          keep = true;
        }
      }
      if (keep) out.push_back(std::move(v));
    }
  }
  return out;
}

std::vector<EngineStatus> Voice::ListEngines() {
  std::vector<EngineStatus> out;
  for (const auto& e : tts_) {
    EngineStatus s{e->name(), true, {}, e->embedded(), e->Health()};
    std::set<std::string> langs;
    for (const auto& v : e->Voices()) langs.insert(v.languages.begin(), v.languages.end());
    s.languages.assign(langs.begin(), langs.end());
    out.push_back(std::move(s));
  }
  for (const auto& e : stt_) {
    out.push_back({e->name(), false, e->Languages(), e->embedded(), e->Health()});
  }
  return out;
}

std::string Voice::Record(InteractionRecord record, const CallContext& ctx) {
  record.id = NewId();
  record.create_time = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));  // as stored
  record.subject = ctx.subject;
  record.stored_audio_bytes = static_cast<int64_t>(record.audio.size());
  // The record is a side effect: a slow or hung database must not hold the
  // answer the caller is waiting for past a short bound.
  CallContext bounded = ctx;
  bounded.deadline = std::min(ctx.deadline, absl::Now() + kRecordTimeout);
  if (absl::Status st = store_->Insert(record, bounded); !st.ok()) {
    if (metrics_.record_errors != nullptr) metrics_.record_errors->Inc();
    Logger("voice")->warn("request_id={} interaction not recorded: {}", ctx.request_id,
                          st.message());
    return "";
  }
  return record.id;
}

absl::StatusOr<InteractionPage> Voice::ListInteractions(int page_size,
                                                        const std::string& page_token,
                                                        const CallContext& ctx) {
  // AIP-158, as every other list: 0 means 20, above 100 is clamped to 100.
  GENESIS_ASSIGN_OR_RETURN(const int limit, PageSize(page_size, 20, 100));
  std::optional<InteractionCursor> after;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(std::string position,
                             DecodePageToken(page_token, "interactions", "-"));
    std::vector<std::string> parts = absl::StrSplit(position, '.');
    int64_t micros = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &micros) || parts[1].size() != 32) {
      return InvalidField("page_token",
                          "is not a token this service issued; pass next_page_token as is");
    }
    after = InteractionCursor{absl::FromUnixMicros(micros), parts[1]};
  }
  GENESIS_ASSIGN_OR_RETURN(auto rows, store_->List(limit + 1, after, ctx));
  InteractionPage page;
  if (static_cast<int>(rows.size()) > limit) {
    rows.resize(limit);
    const auto& last = rows.back();
    page.next_page_token = EncodePageToken(
        "interactions", "-", absl::StrCat(absl::ToUnixMicros(last.create_time), ".", last.id));
  }
  page.values = std::move(rows);
  return page;
}

}  // namespace genesis::voice
