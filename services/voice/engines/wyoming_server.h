// The Wyoming side of genesis-voice: a TCP listener that speaks the Wyoming
// protocol, so Home Assistant (or any Wyoming satellite) can add Genesis as a
// Wyoming integration for speech to text and text to speech on one port.
//
//   describe                              -> info (asr and tts, with languages and voices)
//   transcribe, audio-start, audio-chunk*, audio-stop -> transcript {text}
//   synthesize {text, voice{name,language}} -> audio-start, audio-chunk*, audio-stop
//   ping                                  -> pong
// A request that fails answers an `error` event {text, code} and the
// connection stays usable; broken framing closes the connection.
//
// WyomingListener is the TCP part (also used by the project's Wyoming
// simulator): one thread per connection, at most max_connections at once
// (more are closed at once), each with an idle timeout.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "services/voice/engines/wyoming.h"
#include "services/voice/metrics.h"
#include "services/voice/voice.h"

namespace genesis::voice {

class WyomingListener {
 public:
  using Handler = std::function<void(WyomingConnection& conn, const std::atomic<bool>& stopping)>;

  WyomingListener(std::string host, int port, int max_connections, WyomingLimits limits)
      : host_(std::move(host)), port_(port), max_connections_(max_connections), limits_(limits) {}
  ~WyomingListener() { Stop(); }

  // Binds (port 0 picks a free one) and starts accepting.
  absl::Status Start(Handler handler);
  [[nodiscard]] int port() const { return bound_port_; }
  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void Stop();

 private:
  void AcceptLoop();

  const std::string host_;
  const int port_;
  const int max_connections_;
  const WyomingLimits limits_;
  Handler handler_;
  int listen_fd_ = -1;
  int bound_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::set<int> open_fds_;
  std::list<std::thread> workers_;
  // Threads that finished, joined by the accept loop.
  std::vector<std::thread::id> done_;
  int active_ = 0;
};

struct WyomingServerOptions {
  std::string host = "127.0.0.1";
  int port = 10300;
  int max_connections = 16;
  absl::Duration idle_timeout = absl::Seconds(120);
  absl::Duration call_timeout = absl::Seconds(30);
  WyomingLimits limits;
};

class WyomingServer {
 public:
  // `voice` must outlive the server.
  WyomingServer(Voice* voice, WyomingServerOptions options, VoiceMetrics metrics)
      : voice_(voice),
        options_(options),
        metrics_(metrics),
        listener_(options.host, options.port, options.max_connections, options.limits) {}

  absl::Status Start();
  [[nodiscard]] int port() const { return listener_.port(); }
  void Stop() { listener_.Stop(); }

  // The `info` event data (exposed for tests).
  [[nodiscard]] nlohmann::json Info();

 private:
  void Serve(WyomingConnection& conn, const std::atomic<bool>& stopping);

  Voice* voice_;
  const WyomingServerOptions options_;
  VoiceMetrics metrics_;
  WyomingListener listener_;
};

}  // namespace genesis::voice
