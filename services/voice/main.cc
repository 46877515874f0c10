// genesis-voice: flags -> validated config -> real dependencies -> server
// (the skeleton is common/runtime/service_runtime.h; this file is the service's wiring).
#include <gflags/gflags.h>

#include "absl/strings/str_cat.h"
#include "common/runtime/service_runtime.h"
#include "services/voice/engines/espeak_tts.h"
#include "services/voice/engines/pocketsphinx_stt.h"
#include "services/voice/engines/wyoming.h"
#include "services/voice/engines/wyoming_server.h"
#include "services/voice/grpc_service.h"
#include "services/voice/pg_store.h"
#include "services/voice/reply_client.h"
#include "services/voice/voice.h"

DEFINE_string(espeak_data_path, "", "espeak-ng-data directory (empty: the library's default).");
DEFINE_string(pocketsphinx_hmm, "/usr/share/pocketsphinx/model/en-us/en-us",
              "pocketsphinx acoustic model directory.");
DEFINE_string(pocketsphinx_dict, "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict",
              "pocketsphinx pronunciation dictionary.");
DEFINE_string(pocketsphinx_lm, "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin",
              "pocketsphinx n-gram language model (free dictation).");
DEFINE_string(pocketsphinx_language, "en-US", "The language of the pocketsphinx models.");
DEFINE_int32(stt_decoders, 2,
             "Most pocketsphinx decoders (calls transcribing at once; ~90 MB each), loaded "
             "when first needed and kept.");
DEFINE_int32(stt_preload, 0,
             "pocketsphinx decoders loaded at start (0: none until the first transcription, "
             "which then waits ~0.2-1.5 s for its load).");
DEFINE_string(wyoming_stt_address, "",
              "host:port of a Wyoming speech-to-text server (wyoming-faster-whisper, usually "
              "port 10300); empty: embedded engine only.");
DEFINE_string(wyoming_tts_address, "",
              "host:port of a Wyoming text-to-speech server (wyoming-piper, usually port 10200); "
              "empty: embedded engine only.");
DEFINE_int32(wyoming_timeout_ms, 30000, "Deadline of each call to a Wyoming backend.");
DEFINE_int32(wyoming_probe_interval_s, 10, "How often each Wyoming backend is asked `describe`.");
DEFINE_bool(fallback_to_embedded, true,
            "Answer with the embedded engine when a Wyoming backend is down.");
DEFINE_int32(wyoming_listen_port, 10300,
             "Port of the Wyoming facade (ASR and TTS for Home Assistant); -1 disables it, 0 "
             "picks a free port.");
DEFINE_string(wyoming_listen_host, "127.0.0.1", "Address the Wyoming facade listens on.");
DEFINE_string(llm_router_address, "",
              "gRPC target of genesis-llm-router (host:port, dns:///host:port: calls balanced over "
              "every address); empty: Converse answers FAILED_PRECONDITION.");
DEFINE_int32(llm_timeout_s, 30, "Longest wait for the LLM router in a Converse turn.");
DEFINE_int32(llm_max_tokens, 256, "Most tokens of a spoken answer.");
DEFINE_int32(max_audio_seconds, 60, "Longest audio accepted, in seconds.");
DEFINE_int32(max_audio_bytes, 5 << 20, "Largest audio accepted, in bytes.");
DEFINE_int32(max_text_chars, 5000, "Longest text to synthesise, in characters.");
DEFINE_int32(max_response_audio_bytes, 64 << 20,
             "Largest audio one Synthesize/Converse response carries (the gRPC send limit is "
             "raised to fit); longer speech is INVALID_ARGUMENT on text.");
DEFINE_bool(store_audio, false, "Keep the audio of each interaction (else metadata only).");

namespace genesis {
std::vector<Migration> VoiceMigrations();  // generated from migrations/*.sql
}

int main(int argc, char** argv) {
  using namespace genesis;
  using namespace genesis::voice;
  ServiceRuntime rt({.name = "voice",
                     .description = "genesis-voice: speech in and out, and spoken conversations "
                                    "(genesis.voice.v1).",
                     .migrations = VoiceMigrations,
                     // Speech calls answer without the database (its record
                     // is best effort): readiness does not follow it.
                     .ready_needs_primary = false},
                    &argc, &argv);
  ConfigErrors& errors = rt.errors();
  ServiceConfig& config = rt.config();
  errors.RequireRange("stt_decoders", FLAGS_stt_decoders, 1, 16);
  errors.RequireRange("stt_preload", FLAGS_stt_preload, 0, FLAGS_stt_decoders);
  errors.RequireRange("wyoming_timeout_ms", FLAGS_wyoming_timeout_ms, 100, 600000);
  errors.RequireRange("wyoming_probe_interval_s", FLAGS_wyoming_probe_interval_s, 1, 3600);
  errors.RequireRange("wyoming_listen_port", FLAGS_wyoming_listen_port, -1, 65535);
  errors.RequireRange("llm_timeout_s", FLAGS_llm_timeout_s, 1, 600);
  errors.RequireRange("llm_max_tokens", FLAGS_llm_max_tokens, 16, 8192);
  errors.RequireRange("max_audio_seconds", FLAGS_max_audio_seconds, 1, 3600);
  errors.RequireRange("max_audio_bytes", FLAGS_max_audio_bytes, 1024, 256 << 20);
  errors.RequireRange("max_text_chars", FLAGS_max_text_chars, 1, 100000);
  errors.RequireRange("max_response_audio_bytes", FLAGS_max_response_audio_bytes, 1 << 20, 1 << 30);
  // Base64 in JSON and the proto framing take about a third more than the audio.
  if (static_cast<int64_t>(FLAGS_max_audio_bytes) * 4 / 3 + (64 << 10) >
      config.server.max_message_bytes) {
    errors.Add("max_audio_bytes",
               "must fit --max_message_bytes with base64 overhead (x4/3 + 64 KiB)");
  }
  for (const auto& [flag, value] : {std::pair{"wyoming_stt_address", FLAGS_wyoming_stt_address},
                                    std::pair{"wyoming_tts_address", FLAGS_wyoming_tts_address},
                                    std::pair{"llm_router_address", FLAGS_llm_router_address}}) {
    if (!value.empty() && value.rfind(':') == std::string::npos) {
      errors.Add(flag, "must be host:port");
    }
  }
  if (auto code = rt.Init()) return *code;
  const auto& log = rt.log();
  VoiceMetrics metrics = VoiceMetrics::Register(&rt.registry());

  auto espeak = EspeakTts::Create(FLAGS_espeak_data_path);
  if (!espeak.ok()) {
    log->critical("--espeak_data_path: {}", espeak.status().message());
    return 2;
  }
  PocketsphinxOptions ps_options;
  ps_options.hmm_dir = FLAGS_pocketsphinx_hmm;
  ps_options.dict_path = FLAGS_pocketsphinx_dict;
  ps_options.lm_path = FLAGS_pocketsphinx_lm;
  ps_options.language = FLAGS_pocketsphinx_language;
  ps_options.decoders = FLAGS_stt_decoders;
  ps_options.preload = FLAGS_stt_preload;
  auto sphinx = PocketsphinxStt::Create(ps_options);
  if (!sphinx.ok()) {
    log->critical("{}", sphinx.status().message());
    return 2;
  }
  const absl::Duration wyoming_timeout = absl::Milliseconds(FLAGS_wyoming_timeout_ms);
  std::vector<std::unique_ptr<WyomingBackend>> backends;
  std::vector<std::unique_ptr<TtsEngine>> tts;
  std::vector<std::unique_ptr<SttEngine>> stt;
  if (!FLAGS_wyoming_tts_address.empty()) {
    backends.push_back(std::make_unique<WyomingBackend>(
        std::make_unique<WyomingClient>(FLAGS_wyoming_tts_address, wyoming_timeout)));
    backends.back()->Probe(absl::Seconds(2));
    tts.push_back(std::make_unique<WyomingTts>(backends.back().get()));
  }
  if (!FLAGS_wyoming_stt_address.empty()) {
    backends.push_back(std::make_unique<WyomingBackend>(
        std::make_unique<WyomingClient>(FLAGS_wyoming_stt_address, wyoming_timeout)));
    backends.back()->Probe(absl::Seconds(2));
    stt.push_back(std::make_unique<WyomingStt>(backends.back().get()));
  }
  for (const auto& b : backends) {
    auto h = b->Health();
    if (!h.healthy) {
      log->warn("Wyoming backend {} is down: {}", b->client()->address(), h.detail);
    }
  }
  tts.push_back(std::move(*espeak));
  stt.push_back(std::move(*sphinx));

  std::unique_ptr<ReplyClient> reply;
  if (!FLAGS_llm_router_address.empty()) {
    reply =
        MakeRouterReplyClient(FLAGS_llm_router_address, MeshChannelCredentials(config.server.tls),
                              absl::Seconds(FLAGS_llm_timeout_s), FLAGS_llm_max_tokens);
  } else {
    log->warn("--llm_router_address is empty: Converse answers FAILED_PRECONDITION");
  }
  VoiceOptions options;
  options.limits.max_duration = absl::Seconds(FLAGS_max_audio_seconds);
  options.limits.max_bytes = static_cast<size_t>(FLAGS_max_audio_bytes);
  options.fallback_to_embedded = FLAGS_fallback_to_embedded;
  options.store_audio = FLAGS_store_audio;
  options.max_text_chars = static_cast<size_t>(FLAGS_max_text_chars);
  options.max_response_audio_bytes = static_cast<size_t>(FLAGS_max_response_audio_bytes);
  config.server.max_send_message_bytes = SendLimitBytes(options, config.server.max_message_bytes);
  Voice logic(std::move(tts), std::move(stt), std::make_unique<PgInteractionStore>(&rt.pool()),
              std::move(reply), options, metrics);

  VoiceGrpcService service(&logic, &rt.Dispatcher("genesis.voice.v1.VoiceService"),
                           &rt.StreamDispatcher("genesis.voice.v1.VoiceService"),
                           &rt.BidiStreamDispatcher("genesis.voice.v1.VoiceService"));
  rt.AddService(&service, "genesis.voice.v1.VoiceService");

  std::unique_ptr<WyomingServer> wyoming;
  if (FLAGS_wyoming_listen_port >= 0) {
    WyomingServerOptions wo;
    wo.host = FLAGS_wyoming_listen_host;
    wo.port = FLAGS_wyoming_listen_port;
    wyoming = std::make_unique<WyomingServer>(&logic, wo, metrics);
    if (auto st = wyoming->Start(); !st.ok()) {
      log->critical("--wyoming_listen_port: {}", st.message());
      return 1;
    }
    rt.OnStop([&wyoming] { wyoming->Stop(); });
  }
  // Each Wyoming backend is asked `describe` every --wyoming_probe_interval_s
  // (the first time above, before serving).
  if (!backends.empty()) {
    const absl::Duration interval = absl::Seconds(FLAGS_wyoming_probe_interval_s);
    rt.AddLoop("voice.wyoming_probe", 1, interval, [&]() -> absl::StatusOr<int> {
        for (auto& b : backends) b->Probe(absl::Seconds(2));
        return 0;
      }).set_start_delay(interval);
  }
  return rt.Serve(
      absl::StrCat("wyoming=", FLAGS_wyoming_listen_host, ":", wyoming ? wyoming->port() : -1));
}
