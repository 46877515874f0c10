#include "services/bot_manager/channels/whatsapp/whatsapp.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "services/bot_manager/channels/webhook_util.h"

namespace genesis::bot {

using nlohmann::json;

absl::Status VerifyWhatsAppSignature(absl::string_view app_secret, absl::string_view body,
                                     absl::string_view header) {
  if (header.empty()) {
    return absl::UnauthenticatedError("missing X-Hub-Signature-256 header");
  }
  if (!absl::StartsWith(header, "sha256=")) {
    return absl::UnauthenticatedError("X-Hub-Signature-256 must be 'sha256=<hex HMAC>'");
  }
  std::string sent = absl::AsciiStrToLower(header.substr(7));
  if (!ConstantTimeEquals(sent, HmacSha256Hex(app_secret, body))) {
    return absl::UnauthenticatedError(
        "X-Hub-Signature-256 does not match the body signed with the app secret");
  }
  return absl::OkStatus();
}

absl::StatusOr<WebhookEvents> ParseWhatsApp(absl::string_view body) {
  auto root = ParseJsonObject(body, "WhatsApp");
  if (!root.ok()) return root.status();
  auto entries = root->find("entry");
  if (entries == root->end() || !entries->is_array()) {
    return absl::InvalidArgumentError("the WhatsApp body has no \"entry\" array");
  }
  WebhookEvents events;
  for (const auto& entry : *entries) {
    auto changes = entry.is_object() ? entry.find("changes") : entry.end();
    if (!entry.is_object() || changes == entry.end() || !changes->is_array()) {
      return absl::InvalidArgumentError("a WhatsApp entry has no \"changes\" array");
    }
    for (const auto& change : *changes) {
      if (!change.is_object() || !change.contains("value") || !change["value"].is_object()) {
        return absl::InvalidArgumentError("a WhatsApp change has no \"value\" object");
      }
      const json& value = change["value"];
      if (auto msgs = value.find("messages"); msgs != value.end()) {
        if (!msgs->is_array()) {
          return absl::InvalidArgumentError("WhatsApp \"messages\" is not an array");
        }
        for (const auto& m : *msgs) {
          InboundMessage in;
          in.external_id = JsonText(m, "id");
          in.contact = JsonText(m, "from");
          if (in.external_id.empty() || in.contact.empty()) {
            return absl::InvalidArgumentError(
                "a WhatsApp message lacks its \"id\" (wamid) or \"from\"");
          }
          in.reply_to = in.contact;
          const std::string type = JsonText(m, "type");
          if (type == "text" && m.contains("text")) {
            in.text = JsonText(m["text"], "body");
          } else if (type == "button" && m.contains("button")) {
            in.text = JsonText(m["button"], "text");
          } else if (type == "interactive" && m.contains("interactive")) {
            const json& i = m["interactive"];
            in.text = JsonText(i.value("button_reply", json::object()), "title");
            if (in.text.empty()) in.text = JsonText(i.value("list_reply", json::object()), "title");
          }
          if (in.text.empty()) in.text = absl::StrCat("[", type.empty() ? "unknown" : type, "]");
          events.messages.push_back(std::move(in));
        }
      }
      if (auto sts = value.find("statuses"); sts != value.end()) {
        if (!sts->is_array()) {
          return absl::InvalidArgumentError("WhatsApp \"statuses\" is not an array");
        }
        for (const auto& s : *sts) {
          DeliveryStatus st{JsonText(s, "id"), JsonText(s, "status"), ""};
          if (st.external_id.empty() || st.status.empty()) {
            return absl::InvalidArgumentError("a WhatsApp status lacks its \"id\" or \"status\"");
          }
          if (st.status != "sent" && st.status != "delivered" && st.status != "read" &&
              st.status != "failed") {
            return absl::InvalidArgumentError(absl::StrCat("unknown WhatsApp status '",
                                                           ToStorableText(st.status),
                                                           "' (sent, delivered, read, failed)"));
          }
          if (s.contains("errors") && s["errors"].is_array() && !s["errors"].empty()) {
            st.error = JsonText(s["errors"][0], "title");
          }
          events.statuses.push_back(std::move(st));
        }
      }
    }
  }
  GENESIS_RETURN_IF_ERROR(MakeStorable(&events, "WhatsApp"));
  return events;
}

absl::Status WhatsAppAdapter::Verify(const std::string& secret, const WebhookRequest& req) const {
  return VerifyWhatsAppSignature(secret, req.body, req.Header("x-hub-signature-256"));
}

absl::StatusOr<WebhookEvents> WhatsAppAdapter::Parse(const WebhookRequest& req) const {
  return ParseWhatsApp(req.body);
}

}  // namespace genesis::bot
