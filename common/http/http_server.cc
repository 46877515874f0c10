#include "common/http/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/base/metrics.h"
#include "common/http/listen.h"
#include "common/runtime/logging.h"

namespace genesis {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct OpsHttpServer::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  const MetricsRegistry* registry = nullptr;
  std::function<bool()> ready;
  std::function<absl::Status()> live;
  std::thread thread;

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) Accept();
        return;
      }
      Serve(std::move(socket));
      Accept();
    });
  }

  // Serves one short-lived connection synchronously with a deadline.
  void Serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (int i = 0; i < 16; ++i) {  // a few keep-alive requests at most
      stream.expires_after(std::chrono::seconds(5));
      http::request<http::string_body> req;
      beast::error_code ec;
      http::read(stream, buffer, req, ec);
      if (ec) break;
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.keep_alive(req.keep_alive());
      std::string target(req.target());
      if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
      if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::allow, "GET, HEAD");
        res.body() = "method not allowed\n";
      } else if (target == "/metrics") {
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.body() = registry->Render();
      } else if (target == "/healthz") {
        absl::Status st = live ? live() : absl::OkStatus();
        if (!st.ok()) res.result(http::status::service_unavailable);
        res.body() = st.ok() ? "ok\n" : std::string(st.message()) + "\n";
      } else if (target == "/readyz") {
        bool ok = !ready || ready();
        res.result(ok ? http::status::ok : http::status::service_unavailable);
        res.body() = ok ? "ready\n" : "not ready\n";
      } else {
        res.result(http::status::not_found);
        res.body() = "not found: try /metrics, /healthz or /readyz\n";
      }
      if (res.find(http::field::content_type) == res.end()) {
        res.set(http::field::content_type, "text/plain; charset=utf-8");
      }
      res.prepare_payload();
      http::write(stream, res, ec);
      if (ec || !res.keep_alive()) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
};

absl::StatusOr<std::unique_ptr<OpsHttpServer>> OpsHttpServer::Start(
    const std::string& host, int port, const MetricsRegistry* registry, std::function<bool()> ready,
    std::function<absl::Status()> live) {
  auto impl = std::make_unique<Impl>();
  impl->registry = registry;
  impl->ready = std::move(ready);
  impl->live = std::move(live);
  if (auto st = ListenTcp(impl->acceptor, host, port, "metrics"); !st.ok()) return st;
  int bound = impl->acceptor.local_endpoint().port();
  impl->Accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<OpsHttpServer>(new OpsHttpServer(std::move(impl), bound));
}

OpsHttpServer::OpsHttpServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

OpsHttpServer::~OpsHttpServer() {
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace genesis
