#include "services/voice/grpc_service.h"

#include <google/protobuf/util/time_util.h>

#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"

namespace genesis::voice {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Duration ToProto(absl::Duration d) {
  return TimeUtil::MicrosecondsToDuration(absl::ToInt64Microseconds(d));
}
google::protobuf::Timestamp ToProto(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

Encoding FromProto(v1::AudioEncoding e) {
  switch (e) {
    case v1::AUDIO_ENCODING_WAV:
      return Encoding::kWav;
    case v1::AUDIO_ENCODING_PCM16:
      return Encoding::kPcm16;
    default:
      return Encoding::kUnspecified;
  }
}

OutputFormat FromProto(const v1::AudioFormat& f) {
  OutputFormat out;
  out.encoding = f.encoding() == v1::AUDIO_ENCODING_PCM16 ? Encoding::kPcm16 : Encoding::kWav;
  out.sample_rate_hz = f.sample_rate_hz();
  return out;
}

AudioBlob FromProto(const v1::AudioInput& in) {
  return AudioBlob{in.data(), FromProto(in.encoding()), in.sample_rate_hz()};
}

// The audio of a request: the raw HTTP body when there is one, else `audio`.
absl::Status AudioOf(const v1::AudioInput& audio, const google::api::HttpBody* body,
                     ListenParams* params) {
  if (body != nullptr && !body->data().empty()) {
    GENESIS_ASSIGN_OR_RETURN(params->audio,
                             BlobFromHttpBody(body->content_type(), body->data(), "http_body"));
    params->audio_field = "http_body";
    return absl::OkStatus();
  }
  params->audio = FromProto(audio);
  params->audio_field = "audio.data";
  return absl::OkStatus();
}

void ToProto(const PcmAudio& audio, const OutputFormat& format, v1::AudioOutput* out) {
  out->set_data(Voice::EncodeOutput(audio, format));
  out->set_sample_rate_hz(audio.sample_rate_hz);
  if (format.encoding == Encoding::kPcm16) {
    out->set_encoding(v1::AUDIO_ENCODING_PCM16);
    out->set_content_type(
        absl::StrCat("audio/x-raw;format=S16LE;rate=", audio.sample_rate_hz, ";channels=1"));
  } else {
    out->set_encoding(v1::AUDIO_ENCODING_WAV);
    out->set_content_type("audio/wav");
  }
  *out->mutable_duration() = ToProto(audio.duration());
}

v1::Stage ToProto(Stage s) { return static_cast<v1::Stage>(static_cast<int>(s)); }

void ToProto(const StageTiming& t, v1::StageTiming* out) {
  out->set_stage(ToProto(t.stage));
  out->set_engine(t.engine);
  *out->mutable_duration() = ToProto(t.duration);
}

void ToProto(const Recognition& r, const std::string& engine, const std::string& language,
             bool fallback, v1::Transcript* out) {
  out->set_text(r.text);
  out->set_confidence(r.confidence);
  for (const auto& w : r.words) {
    auto* pw = out->add_words();
    pw->set_word(w.word);
    *pw->mutable_start_offset() = ToProto(w.start);
    *pw->mutable_end_offset() = ToProto(w.end);
    pw->set_confidence(w.confidence);
  }
  out->set_language(language);
  out->set_engine(engine);
  out->set_command_mode(r.command_mode);
  out->set_fallback(fallback);
}

template <typename Req>
SpeakParams SpeakFrom(const Req& req) {
  return SpeakParams{req.text(), req.voice(), req.language(), FromProto(req.format())};
}

template <typename Req>
absl::StatusOr<ConverseParams> ConverseFrom(const Req& req, const google::api::HttpBody* body) {
  ConverseParams p;
  GENESIS_RETURN_IF_ERROR(AudioOf(req.audio(), body, &p.listen));
  p.listen.language = req.language();
  p.listen.phrases.assign(req.phrases().begin(), req.phrases().end());
  p.voice = req.voice();
  p.reply_format = FromProto(req.reply_format());
  p.sensitive = req.sensitive();
  p.system_prompt = req.system_prompt();
  return p;
}

// StreamTranscribe: the config, then audio chunks, each handled on a worker
// (BidiCall, common/rpc/bidi_rpc.h); partial transcripts while the audio comes,
// the final one when the client half-closes.
class TranscribeReactor final
    : public BidiCall<v1::StreamTranscribeRequest, v1::StreamTranscribeResponse> {
 public:
  explicit TranscribeReactor(Voice* voice) : voice_(voice) {}

 private:
  absl::Status OnMessage(const v1::StreamTranscribeRequest& request) override {
    if (!stream_) {
      if (!request.has_config()) {
        return InvalidField("config",
                            "the first message must carry config (sample rate, "
                            "language, optional phrases)");
      }
      const auto& c = request.config();
      auto stream =
          voice_->StartTranscription(c.language(), {c.phrases().begin(), c.phrases().end()},
                                     c.grammar(), c.sample_rate_hz(), call());
      if (!stream.ok()) return stream.status();
      stream_ = std::move(*stream);
      rate_ = c.sample_rate_hz();
      engine_ = stream_->engine;
      language_ = stream_->language;
    } else if (request.has_config()) {
      return InvalidField("config", "only the first message may carry config");
    }
    const std::string& chunk = request.audio_chunk();
    if (chunk.size() % 2 != 0) {
      return InvalidField("audio_chunk", "raw PCM 16-bit chunks need an even byte count");
    }
    std::vector<int16_t> samples(chunk.size() / 2);
    for (size_t i = 0; i < samples.size(); ++i) {
      samples[i] = static_cast<int16_t>(static_cast<unsigned char>(chunk[2 * i]) |
                                        (static_cast<unsigned char>(chunk[2 * i + 1]) << 8));
    }
    samples_ += samples.size();
    const absl::Duration heard = absl::Seconds(static_cast<double>(samples_) / rate_);
    if (heard > voice_->options().limits.max_duration) {
      return InvalidField(
          "audio_chunk",
          absl::StrCat("the stream passed the limit of ",
                       absl::FormatDuration(voice_->options().limits.max_duration), " of audio"));
    }
    const absl::Time start = absl::Now();
    if (!samples.empty()) {
      GENESIS_RETURN_IF_ERROR(stream_->session->Feed(samples.data(), samples.size()));
    }
    processing_ += absl::Now() - start;
    std::string partial = stream_->session->Partial();
    if (!partial.empty() && partial != last_partial_) {
      v1::StreamTranscribeResponse msg;
      msg.mutable_transcript()->set_text(partial);
      msg.mutable_transcript()->set_engine(stream_->engine);
      msg.mutable_transcript()->set_language(stream_->language);
      msg.mutable_transcript()->set_command_mode(stream_->command_mode);
      *msg.mutable_audio_duration() = ToProto(heard);
      if (WriteIfIdle(msg)) last_partial_ = std::move(partial);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<v1::StreamTranscribeResponse> OnClientDone() override {
    if (!stream_) return InvalidField("config", "the stream ended before any config");
    const absl::Time start = absl::Now();
    auto rec = stream_->session->Finish(call());
    processing_ += absl::Now() - start;
    if (!rec.ok()) return rec.status();
    const absl::Duration heard = absl::Seconds(static_cast<double>(samples_) / rate_);
    voice_->RecordTranscription(*stream_, heard, processing_, call());
    stream_.reset();  // frees the decoder before the final write
    v1::StreamTranscribeResponse final_message;
    ToProto(*rec, engine_, language_, false, final_message.mutable_transcript());
    final_message.set_final(true);
    *final_message.mutable_audio_duration() = ToProto(heard);
    return final_message;
  }

  // Gives the decoder back whatever the outcome.
  void OnEnd() override { stream_.reset(); }

  Voice* voice_;
  std::optional<TranscriptionStream> stream_;
  std::string engine_, language_;
  int rate_ = 16000;
  size_t samples_ = 0;
  absl::Duration processing_;
  std::string last_partial_;
};

}  // namespace

grpc::ServerUnaryReactor* VoiceGrpcService::Synthesize(grpc::CallbackServerContext* ctx,
                                                       const v1::SynthesizeRequest* req,
                                                       v1::SynthesizeResponse* resp) {
  return unary_->Unary(ctx, "Synthesize", req, [=, this](const CallContext& call) {
    const SpeakParams params = SpeakFrom(*req);
    auto out = voice_->Synthesize(params, call);
    if (!out.ok()) return out.status();
    ToProto(out->audio, params.format, resp->mutable_audio());
    resp->set_engine(out->engine);
    resp->set_voice(out->voice);
    resp->set_language(out->language);
    resp->set_fallback(out->fallback);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* VoiceGrpcService::SynthesizeAudio(grpc::CallbackServerContext* ctx,
                                                            const v1::SynthesizeAudioRequest* req,
                                                            google::api::HttpBody* resp) {
  return unary_->Unary(ctx, "SynthesizeAudio", req, [=, this](const CallContext& call) {
    const SpeakParams params = SpeakFrom(*req);
    auto out = voice_->Synthesize(params, call);
    if (!out.ok()) return out.status();
    if (params.format.encoding == Encoding::kPcm16) {
      // audio/L16 is big-endian (RFC 2586).
      std::string data = EncodePcm16(out->audio);
      for (size_t i = 0; i + 1 < data.size(); i += 2) std::swap(data[i], data[i + 1]);
      resp->set_data(std::move(data));
      resp->set_content_type(
          absl::StrCat("audio/L16;rate=", out->audio.sample_rate_hz, ";channels=1"));
    } else {
      resp->set_data(EncodeWav(out->audio));
      resp->set_content_type("audio/wav");
    }
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::StreamSynthesizeResponse>* VoiceGrpcService::StreamSynthesize(
    grpc::CallbackServerContext* ctx, const v1::StreamSynthesizeRequest* req) {
  return streams_->ServerStream<v1::StreamSynthesizeResponse>(
      ctx, "StreamSynthesize", req,
      [=, this](const CallContext& call, StreamWriter<v1::StreamSynthesizeResponse>& writer) {
        const SpeakParams params = SpeakFrom(*req);
        return voice_->StreamSynthesize(
            params, call,
            [&](int index, const std::string& sentence, const SpeakResult& speech, bool last) {
              v1::StreamSynthesizeResponse msg;
              msg.set_index(index);
              msg.set_sentence(sentence);
              ToProto(speech.audio, params.format, msg.mutable_audio());
              msg.set_engine(speech.engine);
              msg.set_last(last);
              return writer.Write(msg);
            });
      });
}

grpc::ServerUnaryReactor* VoiceGrpcService::ListVoices(grpc::CallbackServerContext* ctx,
                                                       const v1::ListVoicesRequest* req,
                                                       v1::ListVoicesResponse* resp) {
  return unary_->Unary(ctx, "ListVoices", req, [=, this](const CallContext&) {
    FieldViolations v;
    if (req->language().size() > 35) v.Add("language", "is longer than 35 characters");
    GENESIS_RETURN_IF_ERROR(v.ToStatus());
    for (const auto& voice : voice_->ListVoices(req->language())) {
      auto* pv = resp->add_voices();
      pv->set_name(voice.name);
      for (const auto& l : voice.languages) pv->add_languages(l);
      pv->set_engine(voice.engine);
      pv->set_gender(voice.gender);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* VoiceGrpcService::ListEngines(grpc::CallbackServerContext* ctx,
                                                        const v1::ListEnginesRequest* req,
                                                        v1::ListEnginesResponse* resp) {
  return unary_->Unary(ctx, "ListEngines", req, [=, this](const CallContext&) {
    for (const auto& e : voice_->ListEngines()) {
      auto* pe = resp->add_engines();
      pe->set_name(e.name);
      pe->set_kind(e.tts ? v1::ENGINE_KIND_TTS : v1::ENGINE_KIND_STT);
      for (const auto& l : e.languages) pe->add_languages(l);
      pe->set_embedded(e.embedded);
      pe->set_healthy(e.health.healthy);
      pe->set_health_detail(e.health.detail);
      if (e.health.checked != absl::InfinitePast()) {
        *pe->mutable_last_checked_time() = ToProto(e.health.checked);
      }
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* VoiceGrpcService::Transcribe(grpc::CallbackServerContext* ctx,
                                                       const v1::TranscribeRequest* req,
                                                       v1::TranscribeResponse* resp) {
  return unary_->Unary(ctx, "Transcribe", req, [=, this](const CallContext& call) {
    ListenParams params;
    GENESIS_RETURN_IF_ERROR(
        AudioOf(req->audio(), req->has_http_body() ? &req->http_body() : nullptr, &params));
    params.language = req->language();
    params.phrases.assign(req->phrases().begin(), req->phrases().end());
    params.grammar = req->grammar();
    auto out = voice_->Transcribe(params, call);
    if (!out.ok()) return out.status();
    ToProto(out->recognition, out->engine, out->language, out->fallback,
            resp->mutable_transcript());
    *resp->mutable_audio_duration() = ToProto(out->audio_duration);
    *resp->mutable_processing_duration() = ToProto(out->processing);
    return absl::OkStatus();
  });
}

grpc::ServerBidiReactor<v1::StreamTranscribeRequest, v1::StreamTranscribeResponse>*
VoiceGrpcService::StreamTranscribe(grpc::CallbackServerContext* ctx) {
  return bidi_->Bidi(ctx, "StreamTranscribe", std::make_unique<TranscribeReactor>(voice_));
}

namespace {

void FillConverse(const ConverseResult& r, const OutputFormat& format, v1::ConverseResponse* resp) {
  ToProto(r.transcript.recognition, r.transcript.engine, r.transcript.language,
          r.transcript.fallback, resp->mutable_transcript());
  resp->set_reply_text(r.reply.text);
  ToProto(r.speech.audio, format, resp->mutable_reply_audio());
  resp->set_model(r.reply.model);
  for (const auto& t : r.timings) ToProto(t, resp->add_timings());
  *resp->mutable_total_duration() = ToProto(r.total);
  if (!r.interaction_id.empty())
    resp->set_interaction(absl::StrCat("interactions/", r.interaction_id));
}

}  // namespace

grpc::ServerUnaryReactor* VoiceGrpcService::Converse(grpc::CallbackServerContext* ctx,
                                                     const v1::ConverseRequest* req,
                                                     v1::ConverseResponse* resp) {
  return unary_->Unary(ctx, "Converse", req, [=, this](const CallContext& call) {
    GENESIS_ASSIGN_OR_RETURN(
        ConverseParams params,
        ConverseFrom(*req, req->has_http_body() ? &req->http_body() : nullptr));
    auto out = voice_->Converse(params, call);
    if (!out.ok()) return out.status();
    FillConverse(*out, params.reply_format, resp);
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::StreamConverseResponse>* VoiceGrpcService::StreamConverse(
    grpc::CallbackServerContext* ctx, const v1::StreamConverseRequest* req) {
  return streams_->ServerStream<v1::StreamConverseResponse>(
      ctx, "StreamConverse", req,
      [=, this](const CallContext& call, StreamWriter<v1::StreamConverseResponse>& writer) {
        GENESIS_ASSIGN_OR_RETURN(ConverseParams params, ConverseFrom(*req, nullptr));
        auto out = voice_->Converse(
            params, call,
            [&](ConverseEventType type, absl::Duration elapsed, const ConverseResult& r) {
              v1::StreamConverseResponse msg;
              msg.set_type(static_cast<v1::EventType>(static_cast<int>(type)));
              *msg.mutable_elapsed() = ToProto(elapsed);
              switch (type) {
                case ConverseEventType::kSttEnd:
                  ToProto(r.transcript.recognition, r.transcript.engine, r.transcript.language,
                          r.transcript.fallback, msg.mutable_transcript());
                  ToProto(r.timings.back(), msg.mutable_timing());
                  break;
                case ConverseEventType::kLlmEnd:
                  msg.set_reply_text(r.reply.text);
                  msg.set_model(r.reply.model);
                  ToProto(r.timings.back(), msg.mutable_timing());
                  break;
                case ConverseEventType::kTtsEnd:
                  ToProto(r.speech.audio, params.reply_format, msg.mutable_reply_audio());
                  ToProto(r.timings.back(), msg.mutable_timing());
                  break;
                case ConverseEventType::kRunEnd:
                  if (!r.interaction_id.empty()) {
                    msg.set_interaction(absl::StrCat("interactions/", r.interaction_id));
                  }
                  break;
                default:
                  break;
              }
              return writer.Write(msg);
            });
        return out.status();
      });
}

grpc::ServerUnaryReactor* VoiceGrpcService::ListInteractions(grpc::CallbackServerContext* ctx,
                                                             const v1::ListInteractionsRequest* req,
                                                             v1::ListInteractionsResponse* resp) {
  return unary_->Unary(ctx, "ListInteractions", req, [=, this](const CallContext& call) {
    auto page = voice_->ListInteractions(req->page_size(), req->page_token(), call);
    if (!page.ok()) return page.status();
    for (const auto& r : page->values) {
      auto* pi = resp->add_interactions();
      pi->set_name(absl::StrCat("interactions/", r.id));
      pi->set_kind(static_cast<v1::InteractionKind>(static_cast<int>(r.kind)));
      *pi->mutable_create_time() = ToProto(r.create_time);
      pi->set_language(r.language);
      *pi->mutable_audio_duration() = ToProto(r.audio_duration);
      for (const auto& t : r.stages) ToProto(t, pi->add_timings());
      pi->set_subject(r.subject);
      pi->set_stored_audio_bytes(r.stored_audio_bytes);
    }
    resp->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

}  // namespace genesis::voice
