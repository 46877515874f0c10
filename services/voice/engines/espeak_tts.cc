#include "services/voice/engines/espeak_tts.h"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

#include <atomic>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"

namespace genesis::voice {
namespace {

std::atomic<bool> g_created{false};
// Where the synthesis callback appends samples; guarded by EspeakTts::mu_.
std::vector<int16_t>* g_sink = nullptr;
const CallContext* g_ctx = nullptr;
bool g_aborted = false;

int SynthCallback(short* wav, int count, espeak_EVENT*) {
  if (wav != nullptr && count > 0 && g_sink != nullptr)
    g_sink->insert(g_sink->end(), wav, wav + count);
  if (g_ctx != nullptr && (g_ctx->Expired() || g_ctx->Cancelled())) {
    g_aborted = true;
    return 1;  // stops the synthesis
  }
  return 0;
}

std::string ErrorText(espeak_ng_STATUS status) {
  char buf[512];
  espeak_ng_GetStatusCodeMessage(status, buf, sizeof(buf));
  return buf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EspeakTts>> EspeakTts::Create(const std::string& data_path) {
  if (g_created.exchange(true)) {
    return absl::FailedPreconditionError("espeak-ng is already running in this process");
  }
  espeak_ng_InitializePath(data_path.empty() ? nullptr : data_path.c_str());
  espeak_ng_ERROR_CONTEXT context = nullptr;
  espeak_ng_STATUS st = espeak_ng_Initialize(&context);
  if (st != ENS_OK) {
    espeak_ng_ClearErrorContext(&context);
    g_created = false;
    return absl::FailedPreconditionError(
        absl::StrCat("espeak-ng could not start (data path '", data_path, "'): ", ErrorText(st)));
  }
  st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, nullptr);
  if (st != ENS_OK) {
    g_created = false;
    return absl::FailedPreconditionError(
        absl::StrCat("espeak-ng output could not start: ", ErrorText(st)));
  }
  espeak_SetSynthCallback(SynthCallback);
  std::unique_ptr<EspeakTts> tts(new EspeakTts());
  tts->sample_rate_ = espeak_ng_GetSampleRate();
  std::set<std::string> seen;
  for (const espeak_VOICE** v = espeak_ListVoices(nullptr); v != nullptr && *v != nullptr; ++v) {
    // `languages` is a list of (priority byte, name, NUL), ending with a 0 byte.
    VoiceInfo info;
    for (const char* p = (*v)->languages; p != nullptr && *p != 0;) {
      const char* lang = p + 1;
      info.languages.push_back(DisplayLanguage(lang));
      p = lang + std::strlen(lang) + 1;
    }
    if (info.languages.empty()) continue;
    info.name = NormalizeLanguage(info.languages.front());
    if (!seen.insert(info.name).second) continue;
    info.engine = "espeak-ng";
    info.gender = (*v)->gender == 2 ? "female" : (*v)->gender == 1 ? "male" : "";
    tts->voices_.push_back(std::move(info));
  }
  return tts;
}

EspeakTts::~EspeakTts() {
  espeak_ng_Terminate();
  g_created = false;
}

std::string EspeakTts::VoiceFor(const std::string& language) const {
  const std::string want = NormalizeLanguage(language);
  // A bare language: the variant most people mean (espeak's "en" is en-GB
  // and en-029 also claims "en").
  if (want == "en") return VoiceFor("en-us");
  if (want == "pt") return VoiceFor("pt-br");
  for (const auto& v : voices_) {
    for (const auto& l : v.languages) {
      if (NormalizeLanguage(l) == want) return v.name;
    }
  }
  for (const auto& v : voices_) {
    for (const auto& l : v.languages) {
      if (LanguageMatches(want, l)) return v.name;
    }
  }
  return "";
}

absl::StatusOr<Speech> EspeakTts::Synthesize(const SpeechRequest& request, const CallContext& ctx) {
  Speech out;
  if (!request.voice.empty()) {
    const std::string want = NormalizeLanguage(request.voice);
    for (const auto& v : voices_) {
      if (v.name == want) out.voice = v.name;
    }
    if (out.voice.empty()) {
      return InvalidField("voice", absl::StrCat("espeak-ng has no voice '", request.voice,
                                                "'; ListVoices shows the voices"));
    }
    out.language = request.language.empty() ? out.voice : request.language;
  } else {
    out.language = request.language.empty() ? "en-us" : request.language;
    out.voice = VoiceFor(out.language);
    if (out.voice.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("espeak-ng has no voice for language '", request.language, "'"));
    }
  }
  out.audio.sample_rate_hz = sample_rate_;
  std::lock_guard lock(mu_);
  espeak_ng_STATUS st = espeak_ng_SetVoiceByName(out.voice.c_str());
  if (st != ENS_OK) {
    return absl::InternalError(
        absl::StrCat("espeak-ng could not load voice '", out.voice, "': ", ErrorText(st)));
  }
  g_sink = &out.audio.samples;
  g_ctx = &ctx;
  g_aborted = false;
  st = espeak_ng_Synthesize(request.text.c_str(), request.text.size() + 1, 0, POS_CHARACTER, 0,
                            espeakCHARS_UTF8, nullptr, nullptr);
  if (st == ENS_OK) st = espeak_ng_Synchronize();
  g_sink = nullptr;
  g_ctx = nullptr;
  if (g_aborted) {
    return ctx.Cancelled() ? absl::CancelledError("the caller went away during synthesis")
                           : absl::DeadlineExceededError("the deadline passed during synthesis");
  }
  if (st != ENS_OK) {
    return absl::InternalError(absl::StrCat("espeak-ng failed: ", ErrorText(st)));
  }
  out.language = DisplayLanguage(out.language);
  return out;
}

}  // namespace genesis::voice
