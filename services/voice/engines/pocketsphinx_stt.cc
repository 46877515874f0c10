#include "services/voice/engines/pocketsphinx_stt.h"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"

namespace genesis::voice {

struct PocketsphinxStt::Decoder {
  ps_decoder_t* ps = nullptr;
  ~Decoder() {
    if (ps != nullptr) ps_free(ps);
  }
};

namespace {

constexpr int kRate = 16000;
constexpr double kFrameSeconds = 0.01;  // -frate 100
constexpr char kCommandSearch[] = "genesis_command";

std::vector<std::string> Words(absl::string_view phrase) {
  std::string clean;
  for (char c : phrase) {
    const auto u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '\'' || u >= 0x80) {
      clean.push_back(absl::ascii_tolower(u));
    } else {
      clean.push_back(' ');
    }
  }
  return absl::StrSplit(clean, ' ', absl::SkipEmpty());
}

// Sets up the decoder for `config` (grammar search or the default n-gram one).
absl::Status Configure(ps_decoder_t* ps, const RecognitionConfig& config, size_t max_phrases,
                       size_t max_grammar_bytes) {
  if (!config.command_mode())
    return ps_set_search(ps, "_default") == 0
               ? absl::OkStatus()
               : absl::InternalError("pocketsphinx lost its n-gram search");
  std::string jsgf = config.grammar;
  const char* field = "grammar";
  if (!config.phrases.empty()) {
    field = "phrases";
    if (config.phrases.size() > max_phrases) {
      return InvalidField("phrases",
                          absl::StrCat(config.phrases.size(), " phrases; at most ", max_phrases));
    }
    GENESIS_ASSIGN_OR_RETURN(jsgf, PhrasesToJsgf(config.phrases));
    // Every word must be in the dictionary, or the grammar cannot be built.
    FieldViolations unknown;
    for (size_t i = 0; i < config.phrases.size(); ++i) {
      for (const auto& w : Words(config.phrases[i])) {
        char* phones = ps_lookup_word(ps, w.c_str());
        if (phones == nullptr) {
          unknown.Add(absl::StrCat("phrases[", i, "]"),
                      absl::StrCat("the word '", w,
                                   "' is not in the pocketsphinx dictionary; spell numbers "
                                   "and symbols out in words"));
        }
        free(phones);  // allocated by pocketsphinx with malloc
      }
    }
    GENESIS_RETURN_IF_ERROR(unknown.ToStatus());
  } else if (jsgf.size() > max_grammar_bytes) {
    return InvalidField("grammar", absl::StrCat("grammar of ", jsgf.size(),
                                                " bytes is larger than ", max_grammar_bytes));
  }
  ps_unset_search(ps, kCommandSearch);
  if (ps_set_jsgf_string(ps, kCommandSearch, jsgf.c_str()) != 0) {
    return InvalidField(field,
                        std::string(field) == "grammar"
                            ? "the JSGF grammar could not be compiled (syntax error, no public "
                              "rule, or a word missing from the dictionary)"
                            : "the phrases could not be compiled into a grammar");
  }
  if (ps_set_search(ps, kCommandSearch) != 0) {
    return absl::InternalError("pocketsphinx could not switch to the command grammar");
  }
  return absl::OkStatus();
}

Recognition Collect(ps_decoder_t* ps, bool command_mode) {
  Recognition r;
  r.command_mode = command_mode;
  int32 score = 0;
  const char* hyp = ps_get_hyp(ps, &score);
  if (hyp == nullptr || *hyp == 0) return r;
  r.text = hyp;
  logmath_t* lmath = ps_get_logmath(ps);
  r.confidence = command_mode ? 1.0f : static_cast<float>(logmath_exp(lmath, ps_get_prob(ps)));
  for (ps_seg_t* seg = ps_seg_iter(ps); seg != nullptr; seg = ps_seg_next(seg)) {
    std::string word = ps_seg_word(seg);
    if (word.empty() || word[0] == '<' || word[0] == '[' || word == "<sil>") continue;
    if (size_t paren = word.find('('); paren != std::string::npos) word.resize(paren);  // on(2)
    int sf = 0, ef = 0;
    ps_seg_frames(seg, &sf, &ef);
    int32 ascr = 0, lscr = 0, lback = 0;
    const int32 post = ps_seg_prob(seg, &ascr, &lscr, &lback);
    WordTiming w;
    w.word = std::move(word);
    w.start = absl::Seconds(sf * kFrameSeconds);
    w.end = absl::Seconds((ef + 1) * kFrameSeconds);
    w.confidence = command_mode ? 1.0f : static_cast<float>(logmath_exp(lmath, post));
    r.words.push_back(std::move(w));
  }
  return r;
}

class Session final : public SttSession {
 public:
  Session(PocketsphinxStt* engine, PocketsphinxStt::Decoder* decoder, bool command_mode, int rate)
      : engine_(engine), decoder_(decoder), command_mode_(command_mode), rate_(rate) {}
  ~Session() override {
    if (!finished_) ps_end_utt(decoder_->ps);
    engine_->Release(decoder_);
  }
  absl::Status Feed(const int16_t* samples, size_t count) override {
    PcmAudio chunk;
    chunk.sample_rate_hz = rate_;
    chunk.samples.assign(samples, samples + count);
    chunk = Resample(chunk, kRate);
    if (ps_process_raw(decoder_->ps, chunk.samples.data(), chunk.samples.size(), FALSE, FALSE) <
        0) {
      return absl::InternalError("pocketsphinx could not process the audio");
    }
    return absl::OkStatus();
  }
  std::string Partial() override {
    int32 score = 0;
    const char* hyp = ps_get_hyp(decoder_->ps, &score);
    return hyp == nullptr ? "" : hyp;
  }
  absl::StatusOr<Recognition> Finish(const CallContext&) override {
    finished_ = true;
    if (ps_end_utt(decoder_->ps) < 0) return absl::InternalError("pocketsphinx could not finish");
    return Collect(decoder_->ps, command_mode_);
  }

 private:
  PocketsphinxStt* engine_;
  PocketsphinxStt::Decoder* decoder_;
  bool command_mode_;
  int rate_;
  bool finished_ = false;
};

}  // namespace

absl::StatusOr<std::string> PhrasesToJsgf(const std::vector<std::string>& phrases) {
  FieldViolations violations;
  std::vector<std::string> alternatives;
  for (size_t i = 0; i < phrases.size(); ++i) {
    if (phrases[i].size() > 200) {
      violations.Add(absl::StrCat("phrases[", i, "]"), "longer than 200 characters");
      continue;
    }
    auto words = Words(phrases[i]);
    if (words.empty()) {
      violations.Add(absl::StrCat("phrases[", i, "]"), "holds no words");
      continue;
    }
    alternatives.push_back(absl::StrJoin(words, " "));
  }
  GENESIS_RETURN_IF_ERROR(violations.ToStatus());
  return absl::StrCat("#JSGF V1.0;\ngrammar genesis;\npublic <command> = ",
                      absl::StrJoin(alternatives, " | "), ";\n");
}

absl::StatusOr<std::unique_ptr<PocketsphinxStt>> PocketsphinxStt::Create(
    PocketsphinxOptions options) {
  for (const auto& [flag, path] : {std::pair{"pocketsphinx_hmm", options.hmm_dir},
                                   std::pair{"pocketsphinx_dict", options.dict_path},
                                   std::pair{"pocketsphinx_lm", options.lm_path}}) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return absl::FailedPreconditionError(
          absl::StrCat("--", flag, ": '", path,
                       "' does not exist (install pocketsphinx-en-us or point the flag "
                       "at the model)"));
    }
  }
  err_set_logfp(nullptr);  // pocketsphinx logs every decode to stderr otherwise
  std::unique_ptr<PocketsphinxStt> engine(new PocketsphinxStt(options));
  const int preload = std::clamp(options.preload, 0, std::max(1, options.decoders));
  for (int i = 0; i < preload; ++i) {
    GENESIS_ASSIGN_OR_RETURN(auto decoder, engine->Load());
    engine->free_.push_back(decoder.get());
    engine->all_.push_back(std::move(decoder));
  }
  return engine;
}

absl::StatusOr<std::unique_ptr<PocketsphinxStt::Decoder>> PocketsphinxStt::Load() const {
  cmd_ln_t* config =
      cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", options_.hmm_dir.c_str(), "-dict",
                  options_.dict_path.c_str(), "-lm", options_.lm_path.c_str(), nullptr);
  if (config == nullptr) {
    return absl::FailedPreconditionError("pocketsphinx rejected its configuration");
  }
  ps_decoder_t* ps = ps_init(config);
  cmd_ln_free_r(config);  // the decoder holds its own reference
  if (ps == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("pocketsphinx could not load the model (",
                                                      options_.hmm_dir, ", ", options_.dict_path,
                                                      ", ", options_.lm_path, ")"));
  }
  auto decoder = std::make_unique<Decoder>();
  decoder->ps = ps;
  return decoder;
}

PocketsphinxStt::PocketsphinxStt(PocketsphinxOptions options) : options_(std::move(options)) {}
PocketsphinxStt::~PocketsphinxStt() = default;

absl::StatusOr<PocketsphinxStt::Decoder*> PocketsphinxStt::Acquire(const CallContext& ctx) {
  const absl::Time limit = std::min(ctx.deadline, absl::Now() + options_.acquire_timeout);
  const int max = std::max(1, options_.decoders);
  std::unique_lock lock(mu_);
  while (free_.empty()) {
    if (static_cast<int>(all_.size()) + loading_ < max) {
      // Room for another: load it outside the lock (others keep using and
      // returning the loaded ones meanwhile) and keep it for this call.
      ++loading_;
      lock.unlock();
      const absl::Time start = absl::Now();
      auto loaded = Load();
      lock.lock();
      --loading_;
      if (!loaded.ok()) {
        cv_.notify_all();  // a waiter may try to load instead
        Logger("voice")->error("speech decoder {} of {} did not load: {}", all_.size() + 1, max,
                               loaded.status().message());
        return absl::UnavailableError(
            "speech recognition is unavailable: its models could not be loaded");
      }
      Logger("voice")->info("speech decoder {} of {} loaded in {} ms", all_.size() + 1, max,
                            absl::ToInt64Milliseconds(absl::Now() - start));
      all_.push_back(std::move(*loaded));
      return all_.back().get();
    }
    if (cv_.wait_until(lock, absl::ToChronoTime(limit)) == std::cv_status::timeout &&
        free_.empty()) {
      if (ctx.Expired()) {
        return absl::DeadlineExceededError("the deadline passed waiting for a speech decoder");
      }
      return absl::ResourceExhaustedError(
          absl::StrCat("all ", max, " speech decoders are busy; try again shortly"));
    }
  }
  Decoder* d = free_.back();
  free_.pop_back();
  return d;
}

int PocketsphinxStt::loaded() {
  std::lock_guard lock(mu_);
  return static_cast<int>(all_.size());
}

void PocketsphinxStt::Release(Decoder* decoder) {
  std::lock_guard lock(mu_);
  free_.push_back(decoder);
  cv_.notify_one();
}

absl::StatusOr<Recognition> PocketsphinxStt::Transcribe(const PcmAudio& audio,
                                                        const RecognitionConfig& config,
                                                        const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(Decoder * d, Acquire(ctx));
  struct Lease {
    PocketsphinxStt* engine;
    Decoder* d;
    ~Lease() { engine->Release(d); }
  } lease{this, d};
  GENESIS_RETURN_IF_ERROR(
      Configure(d->ps, config, options_.max_phrases, options_.max_grammar_bytes));
  const PcmAudio pcm = Resample(audio, kRate);
  if (ps_start_utt(d->ps) < 0) return absl::InternalError("pocketsphinx could not start");
  // The whole utterance at once (full_utt): cepstral mean normalisation is then
  // computed over this audio instead of adapting from the decoder's history, so
  // a result does not depend on which calls the decoder served before. The
  // deadline is checked before; audio is at most a minute.
  if (ctx.Expired()) {
    ps_end_utt(d->ps);
    return absl::DeadlineExceededError("the deadline passed before recognition");
  }
  if (ps_process_raw(d->ps, pcm.samples.data(), pcm.samples.size(), FALSE, TRUE) < 0) {
    ps_end_utt(d->ps);
    return absl::InternalError("pocketsphinx could not process the audio");
  }
  if (ps_end_utt(d->ps) < 0) return absl::InternalError("pocketsphinx could not finish");
  return Collect(d->ps, config.command_mode());
}

absl::StatusOr<std::unique_ptr<SttSession>> PocketsphinxStt::StartSession(
    const RecognitionConfig& config, int sample_rate_hz, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(Decoder * d, Acquire(ctx));
  absl::Status st = Configure(d->ps, config, options_.max_phrases, options_.max_grammar_bytes);
  if (st.ok() && ps_start_utt(d->ps) < 0) st = absl::InternalError("pocketsphinx could not start");
  if (!st.ok()) {
    Release(d);
    return st;
  }
  return std::make_unique<Session>(this, d, config.command_mode(), sample_rate_hz);
}

}  // namespace genesis::voice
