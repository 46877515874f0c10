#include "common/http/listen.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/socket_base.hpp>

#include "absl/strings/str_cat.h"

namespace genesis {

absl::Status ListenTcp(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host, int port,
                       absl::string_view what) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " host '", host, "' is not an IP address: ", ec.message()));
  }
  asio::ip::tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for ", what, " on ", host, ":", port, ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace genesis
