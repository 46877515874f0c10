#include "common/http/sim_http_server.h"

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>

#include <atomic>
#include <list>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/http/listen.h"

namespace genesis {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct SimHttpServer::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  int port = 0;
  int max_connections = 0;
  size_t max_body_bytes = SimHttpServer::kDefaultMaxBodyBytes;
  static constexpr size_t kHardBodyCap = 64 << 20;  // beyond it: the connection is closed
  Handler handler;
  std::thread accept_thread;

  std::mutex mu;
  bool stopping = false;
  std::set<int> open_fds;
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> threads;
  std::atomic<int> live{0};

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) Accept();
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) return;
      if (live.load() >= max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        // Joins connections that have ended, so threads do not pile up.
        for (auto it = threads.begin(); it != threads.end();) {
          if (it->done->load()) {
            it->thread.join();
            it = threads.erase(it);
          } else {
            ++it;
          }
        }
        ++live;
        open_fds.insert(socket.native_handle());
        auto done = std::make_shared<std::atomic<bool>>(false);
        threads.push_back({std::thread([this, done, s = std::move(socket)]() mutable {
                             Serve(std::move(s));
                             done->store(true);
                           }),
                           done});
      }
      Accept();
    });
  }

  void Serve(tcp::socket socket) {
    const int fd = socket.native_handle();
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (true) {
      // Read whole (up to a hard cap), then refused with 413 when larger than
      // the server's limit, as a real API answers: closing the connection
      // mid-upload would look like a network failure to the client.
      http::request_parser<http::string_body> parser;
      parser.body_limit(kHardBodyCap);
      http::read(socket, buffer, parser, ec);
      if (ec) break;
      Request request = parser.release();
      if (request.body().size() > max_body_bytes) {
        const std::string body = absl::StrCat(
            R"({"error": {"code": 413, "type": "request_too_large", "message": "request body of )",
            request.body().size(), " bytes is larger than the limit of ", max_body_bytes,
            R"( bytes"}})");
        Respond(socket, request, http::status::payload_too_large, "application/json", body);
        break;
      }
      if (!handler(socket, request)) break;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      open_fds.erase(fd);
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    --live;
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) return;
      stopping = true;
      for (int fd : open_fds) ::shutdown(fd, SHUT_RDWR);
    }
    asio::post(io, [this] {
      beast::error_code ec;
      acceptor.close(ec);
    });
    if (accept_thread.joinable()) accept_thread.join();
    std::list<Worker> joining;
    {
      std::lock_guard<std::mutex> lock(mu);
      joining.swap(threads);
    }
    for (auto& w : joining) w.thread.join();
  }
};

absl::StatusOr<std::unique_ptr<SimHttpServer>> SimHttpServer::Start(const std::string& host,
                                                                    int port, int max_connections,
                                                                    Handler handler,
                                                                    size_t max_body_bytes) {
  auto impl = std::make_unique<Impl>();
  impl->max_connections = max_connections;
  impl->max_body_bytes = max_body_bytes;
  impl->handler = std::move(handler);
  if (auto st = ListenTcp(impl->acceptor, host, port, "HTTP"); !st.ok()) return st;
  impl->port = impl->acceptor.local_endpoint().port();
  impl->Accept();
  Impl* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<SimHttpServer>(new SimHttpServer(std::move(impl)));
}

SimHttpServer::SimHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SimHttpServer::~SimHttpServer() { impl_->Stop(); }
int SimHttpServer::port() const { return impl_->port; }
void SimHttpServer::Stop() { impl_->Stop(); }

bool SimHttpServer::Respond(Socket& socket, const Request& request, http::status status,
                            const std::string& content_type, std::string body,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  http::response<http::string_body> res{status, request.version()};
  res.set(http::field::content_type, content_type);
  for (const auto& [name, value] : headers) res.set(name, value);
  res.keep_alive(request.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  beast::error_code ec;
  http::write(socket, res, ec);
  return !ec && request.keep_alive();
}

}  // namespace genesis
