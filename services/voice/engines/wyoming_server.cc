#include "services/voice/engines/wyoming_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"

namespace genesis::voice {
namespace {

using nlohmann::json;
constexpr size_t kChunkSamples = 1024;

json Error(const absl::Status& st) {
  return {{"text", std::string(st.message())}, {"code", absl::StatusCodeToString(st.code())}};
}

}  // namespace

absl::Status WyomingListener::Start(Handler handler) {
  handler_ = std::move(handler);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  if (::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("'", host_, "' is not an IPv4 address"));
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return absl::UnavailableError(
        absl::StrCat("cannot listen for Wyoming on ", host_, ":", port_, ": ", why));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  bound_port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void WyomingListener::AcceptLoop() {
  while (!stopping_.load()) {
    {
      std::lock_guard lock(mu_);
      for (auto id : done_) {
        for (auto it = workers_.begin(); it != workers_.end(); ++it) {
          if (it->get_id() == id) {
            it->join();
            workers_.erase(it);
            break;
          }
        }
      }
      done_.clear();
    }
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    if (active_ >= max_connections_ || stopping_.load()) {
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ++active_;
    open_fds_.insert(fd);
    workers_.emplace_back([this, fd] {
      {
        WyomingConnection conn(fd, limits_);
        handler_(conn, stopping_);
        std::lock_guard lock(mu_);
        open_fds_.erase(fd);  // the connection closes the fd right after
      }
      std::lock_guard lock(mu_);
      --active_;
      done_.push_back(std::this_thread::get_id());
    });
  }
}

void WyomingListener::Stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::list<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

absl::Status WyomingServer::Start() {
  return listener_.Start([this](WyomingConnection& conn, const std::atomic<bool>& stopping) {
    Serve(conn, stopping);
  });
}

json WyomingServer::Info() {
  json attribution = {{"name", "Genesis"}, {"url", "https://github.com/genesis-mesh/genesis"}};
  json asr_langs = json::array();
  std::set<std::string> seen;
  for (const auto& l : voice_->SttLanguages()) {
    for (const std::string& form :
         {l, NormalizeLanguage(l).substr(0, NormalizeLanguage(l).find('-'))}) {
      if (seen.insert(form).second) asr_langs.push_back(form);
    }
  }
  json voices = json::array();
  for (const auto& v : voice_->ListVoices("")) {
    voices.push_back({{"name", v.name},
                      {"description", absl::StrCat(v.engine, " ", v.name)},
                      {"attribution", attribution},
                      {"installed", true},
                      {"version", nullptr},
                      {"languages", v.languages}});
  }
  return {{"asr", json::array({{{"name", "genesis-voice"},
                                {"description", "Genesis speech to text"},
                                {"attribution", attribution},
                                {"installed", true},
                                {"version", "1"},
                                {"models", json::array({{{"name", "genesis-stt"},
                                                         {"description", "Genesis speech to text"},
                                                         {"attribution", attribution},
                                                         {"installed", true},
                                                         {"version", "1"},
                                                         {"languages", asr_langs}}})}}})},
          {"tts", json::array({{{"name", "genesis-voice"},
                                {"description", "Genesis text to speech"},
                                {"attribution", attribution},
                                {"installed", true},
                                {"version", "1"},
                                {"voices", voices}}})}};
}

void WyomingServer::Serve(WyomingConnection& conn, const std::atomic<bool>& stopping) {
  auto log = Logger("voice.wyoming");
  std::string language;
  bool receiving = false;
  PcmAudio audio;
  while (!stopping.load()) {
    auto ev = conn.Read(absl::Now() + options_.idle_timeout);
    if (!ev.ok()) {
      if (!absl::IsUnavailable(ev.status()) ||
          ev.status().message().find("closed") == absl::string_view::npos) {
        log->info("Wyoming connection closed: {}", ev.status().message());
        // Framing errors are reported before closing, when the peer still listens.
        (void)conn.Write({"error", Error(ev.status()), ""}, absl::Now() + absl::Seconds(1));
      }
      return;
    }
    if (metrics_.wyoming_facade_events != nullptr) {
      metrics_.wyoming_facade_events->WithLabels({ev->type}).Inc();
    }
    const absl::Time write_deadline = absl::Now() + options_.call_timeout;
    CallContext ctx = CallContext::Background(options_.call_timeout);
    ctx.request_id = "wyoming";
    absl::Status st;
    if (ev->type == "describe") {
      st = conn.Write({"info", Info(), ""}, write_deadline);
    } else if (ev->type == "ping") {
      st = conn.Write({"pong", ev->data, ""}, write_deadline);
    } else if (ev->type == "transcribe") {
      language = ev->data.value("language", "");
      if (!ev->data.contains("language") || !ev->data["language"].is_string()) language.clear();
    } else if (ev->type == "audio-start" || ev->type == "audio-chunk") {
      const int rate = ev->data.value("rate", 0);
      const int width = ev->data.value("width", 0);
      const int channels = ev->data.value("channels", 0);
      if (width != 2 || (channels != 1 && channels != 2) || rate < 8000 || rate > 48000) {
        st = conn.Write({"error",
                         Error(absl::InvalidArgumentError(absl::StrCat(
                             "audio format not supported: rate ", rate, ", width ", width,
                             ", channels ", channels, " (need width 2, 1-2 channels, 8-48 kHz)"))),
                         ""},
                        write_deadline);
        receiving = false;
        audio.samples.clear();
      } else {
        if (!receiving) {
          receiving = true;
          audio.samples.clear();
          audio.sample_rate_hz = rate;
        }
        const auto* p = reinterpret_cast<const unsigned char*>(ev->payload.data());
        const size_t frames = ev->payload.size() / (2 * channels);
        for (size_t i = 0; i < frames; ++i) {
          int acc = 0;
          for (int c = 0; c < channels; ++c) {
            const size_t at = (i * channels + c) * 2;
            acc += static_cast<int16_t>(p[at] | (p[at + 1] << 8));
          }
          audio.samples.push_back(static_cast<int16_t>(acc / channels));
        }
        if (audio.duration() > voice_->options().limits.max_duration) {
          st = conn.Write({"error",
                           Error(absl::InvalidArgumentError(absl::StrCat(
                               "audio longer than ",
                               absl::FormatDuration(voice_->options().limits.max_duration)))),
                           ""},
                          write_deadline);
          receiving = false;
          audio.samples.clear();
        }
      }
    } else if (ev->type == "audio-stop") {
      if (!receiving) continue;
      receiving = false;
      ListenParams params;
      params.audio = AudioBlob{EncodePcm16(audio), Encoding::kPcm16, audio.sample_rate_hz};
      params.language = language;
      auto out = voice_->Transcribe(params, ctx);
      if (out.ok()) {
        json data = {{"text", out->recognition.text}};
        if (!language.empty()) data["language"] = language;
        st = conn.Write({"transcript", data, ""}, write_deadline);
      } else {
        st = conn.Write({"error", Error(out.status()), ""}, write_deadline);
      }
      audio.samples.clear();
    } else if (ev->type == "synthesize") {
      SpeakParams params;
      params.text = ev->data.value("text", "");
      if (auto v = ev->data.find("voice"); v != ev->data.end() && v->is_object()) {
        if (v->contains("name") && (*v)["name"].is_string()) params.voice = (*v)["name"];
        if (v->contains("language") && (*v)["language"].is_string()) {
          params.language = (*v)["language"];
        }
      }
      auto out = voice_->Synthesize(params, ctx);
      if (!out.ok()) {
        st = conn.Write({"error", Error(out.status()), ""}, write_deadline);
      } else {
        const json fmt = {{"rate", out->audio.sample_rate_hz}, {"width", 2}, {"channels", 1}};
        st = conn.Write({"audio-start", fmt, ""}, write_deadline);
        for (size_t off = 0; st.ok() && off < out->audio.samples.size(); off += kChunkSamples) {
          PcmAudio piece;
          piece.sample_rate_hz = out->audio.sample_rate_hz;
          const size_t n = std::min(kChunkSamples, out->audio.samples.size() - off);
          piece.samples.assign(out->audio.samples.begin() + off,
                               out->audio.samples.begin() + off + n);
          st = conn.Write({"audio-chunk", fmt, EncodePcm16(piece)}, write_deadline);
        }
        if (st.ok()) st = conn.Write({"audio-stop", json::object(), ""}, write_deadline);
      }
    }
    // Other event types (wake, intent, handle...) are not served here: ignored.
    if (!st.ok()) {
      log->info("Wyoming write failed, closing: {}", st.message());
      return;
    }
  }
}

}  // namespace genesis::voice
