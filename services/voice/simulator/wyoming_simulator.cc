#include "services/voice/simulator/wyoming_simulator.h"

#include <sys/socket.h>

#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace genesis::voice {
namespace {
using nlohmann::json;
}

WyomingSimulator::WyomingSimulator(WyomingSimulatorOptions options)
    : options_(std::move(options)), listener_(options_.host, options_.port, 64, WyomingLimits{}) {}

absl::Status WyomingSimulator::Start() {
  return listener_.Start([this](WyomingConnection& conn, const std::atomic<bool>& stopping) {
    Serve(conn, stopping);
  });
}

std::string WyomingSimulator::last_language() {
  std::lock_guard lock(mu_);
  return last_language_;
}

absl::Status WyomingSimulator::Send(WyomingConnection& conn, const WyomingEvent& ev) {
  std::string bytes = WyomingConnection::Encode(ev);
  if (options_.header_padding > 0) {
    // Widen the header line: {"pad":"xxx...", ...rest}
    bytes.insert(1, absl::StrCat("\"pad\":\"", std::string(options_.header_padding, 'x'), "\","));
  }
  const size_t piece = options_.write_piece_bytes == 0 ? bytes.size() : options_.write_piece_bytes;
  for (size_t off = 0; off < bytes.size(); off += piece) {
    const size_t n = std::min(piece, bytes.size() - off);
    size_t sent = 0;
    while (sent < n) {
      const ssize_t w = ::send(conn.fd(), bytes.data() + off + sent, n - sent, MSG_NOSIGNAL);
      if (w <= 0) return absl::UnavailableError("peer went away");
      sent += static_cast<size_t>(w);
    }
    // Give the reader a chance to see a partial event.
    if (options_.write_piece_bytes != 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return absl::OkStatus();
}

void WyomingSimulator::Serve(WyomingConnection& conn, const std::atomic<bool>& stopping) {
  size_t samples = 0;
  while (!stopping.load()) {
    auto ev = conn.Read(absl::Now() + absl::Seconds(30));
    if (!ev.ok()) return;
    ++events_;
    absl::Status st;
    if (ev->type == "describe") {
      json voices = json::array();
      for (const auto& v : options_.voices) {
        std::string lang = v.substr(0, v.find('-'));
        voices.push_back({{"name", v},
                          {"languages", json::array({lang})},
                          {"installed", true},
                          {"attribution", {{"name", "sim"}, {"url", ""}}}});
      }
      json info = {
          {"asr",
           json::array({{{"name", "faster-whisper"},
                         {"installed", true},
                         {"models", json::array({{{"name", "tiny-int8"},
                                                  {"installed", true},
                                                  {"languages", options_.asr_languages}}})}}})},
          {"tts", json::array({{{"name", "piper"}, {"installed", true}, {"voices", voices}}})}};
      st = Send(conn, {"info", info, ""});
    } else if (ev->type == "transcribe") {
      std::lock_guard lock(mu_);
      last_language_ = ev->data.value("language", "");
      samples = 0;
    } else if (ev->type == "audio-start") {
      samples = 0;
      last_rate_ = ev->data.value("rate", 0);
    } else if (ev->type == "audio-chunk") {
      samples += ev->payload.size() / 2;
    } else if (ev->type == "audio-stop") {
      last_samples_ = samples;
      if (options_.silent) continue;
      st = Send(conn, {"transcript", {{"text", options_.transcript}}, ""});
    } else if (ev->type == "synthesize") {
      if (options_.silent) continue;
      const std::string text = ev->data.value("text", "");
      const int rate = 22050;
      const json fmt = {{"rate", rate}, {"width", 2}, {"channels", 1}};
      st = Send(conn, {"audio-start", fmt, ""});
      const size_t total = static_cast<size_t>(rate * 0.06 * std::max<size_t>(1, text.size()));
      for (size_t off = 0; st.ok() && off < total; off += 2048) {
        PcmAudio piece;
        piece.sample_rate_hz = rate;
        for (size_t i = off; i < std::min(total, off + 2048); ++i) {
          piece.samples.push_back(
              static_cast<int16_t>(8000 * std::sin(2 * M_PI * 440.0 * i / rate)));
        }
        st = Send(conn, {"audio-chunk", fmt, EncodePcm16(piece)});
      }
      if (st.ok()) st = Send(conn, {"audio-stop", json::object(), ""});
    }
    if (!st.ok()) return;
  }
}

}  // namespace genesis::voice
