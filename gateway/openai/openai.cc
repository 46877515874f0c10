#include "gateway/openai/openai.h"

#include <cmath>

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "gateway/http/strict_json.h"
#include "google/rpc/error_details.pb.h"

namespace genesis::gateway::openai {

namespace v1 = genesis::llmrouter::v1;
using nlohmann::json;

namespace {

// Task names accepted in genesis_task / X-Genesis-Task ("reasoning" or "TASK_REASONING").
std::optional<v1::Task> ParseTask(std::string text) {
  text = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  if (!absl::StartsWith(text, "TASK_")) text = absl::StrCat("TASK_", text);
  v1::Task task;
  if (!v1::Task_Parse(text, &task) || task == v1::TASK_UNSPECIFIED) return std::nullopt;
  return task;
}

std::optional<bool> ParseBool(std::string text) {
  text = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  return std::nullopt;
}

const char* kTaskNames =
    "chat, reasoning, classification, extraction, long_context or summarization";

void ParseMessages(const json& body, v1::CompleteRequest* out, FieldViolations* violations) {
  auto it = body.find("messages");
  if (it == body.end() || !it->is_array() || it->empty()) {
    violations->Add("messages", "must be a non-empty array of {role, content} messages");
    return;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string at = absl::StrCat("messages[", i, "]");
    if (!m.is_object()) {
      violations->Add(at, "must be an object with role and content");
      continue;
    }
    v1::Message* message = out->add_messages();
    auto role = m.find("role");
    std::string r = role != m.end() && role->is_string() ? role->get<std::string>() : "";
    if (r == "system" || r == "developer") {
      message->set_role(v1::ROLE_SYSTEM);
    } else if (r == "user") {
      message->set_role(v1::ROLE_USER);
    } else if (r == "assistant") {
      message->set_role(v1::ROLE_ASSISTANT);
    } else if (r == "tool") {
      message->set_role(v1::ROLE_TOOL);
      auto id = m.find("tool_call_id");
      if (id == m.end() || !id->is_string() || id->get<std::string>().empty()) {
        violations->Add(absl::StrCat(at, ".tool_call_id"),
                        "is required: the id of the tool call this message answers");
      } else {
        message->set_tool_call_id(id->get<std::string>());
      }
    } else {
      violations->Add(absl::StrCat(at, ".role"),
                      r.empty() ? "is required: system, developer, user, assistant or tool"
                                : absl::StrCat("'", r,
                                               "' is not supported: use system, developer, user, "
                                               "assistant or tool"));
    }
    bool has_calls = false;
    if (auto calls = m.find("tool_calls");
        r == "assistant" && calls != m.end() && !calls->is_null()) {
      if (!calls->is_array()) {
        violations->Add(absl::StrCat(at, ".tool_calls"), "must be an array of tool calls");
      } else {
        for (size_t c = 0; c < calls->size(); ++c) {
          const json& call = (*calls)[c];
          const std::string call_at = absl::StrCat(at, ".tool_calls[", c, "]");
          const json& f = call.is_object() ? call.value("function", json::object()) : json();
          auto id = call.is_object() ? call.find("id") : call.end();
          auto name = f.is_object() ? f.find("name") : f.end();
          auto args = f.is_object() ? f.find("arguments") : f.end();
          if (!call.is_object() || id == call.end() || !id->is_string() || name == f.end() ||
              !name->is_string() || (args != f.end() && !args->is_string())) {
            violations->Add(call_at,
                            "must be {\"id\", \"type\": \"function\", \"function\": {\"name\", "
                            "\"arguments\"}} with string values");
            continue;
          }
          auto* p = message->add_tool_calls();
          p->set_id(id->get<std::string>());
          p->set_name(name->get<std::string>());
          p->set_arguments(args != f.end() ? args->get<std::string>() : "{}");
          has_calls = true;
        }
      }
    }
    auto content = m.find("content");
    if (has_calls && (content == m.end() || content->is_null())) continue;  // calls only
    std::string text;
    bool bad_part = false;
    if (content != m.end() && content->is_string()) {
      text = content->get<std::string>();
    } else if (content != m.end() && content->is_array()) {
      for (size_t p = 0; p < content->size(); ++p) {
        const json& part = (*content)[p];
        auto type = part.is_object() ? part.find("type") : part.end();
        auto part_text = part.is_object() ? part.find("text") : part.end();
        if (type == part.end() || *type != "text" || part_text == part.end() ||
            !part_text->is_string()) {
          violations->Add(absl::StrCat(at, ".content[", p, "]"),
                          "only text parts ({\"type\": \"text\", \"text\": ...}) are supported");
          bad_part = true;
          continue;
        }
        if (!text.empty()) text += "\n";
        text += part_text->get<std::string>();
      }
    } else {
      violations->Add(absl::StrCat(at, ".content"),
                      "is required: a string or an array of text parts");
      continue;
    }
    if (text.empty() && !bad_part) {
      violations->Add(absl::StrCat(at, ".content"), "must not be empty");
    }
    message->set_content(std::move(text));
  }
}

// "tools": [{"type": "function", "function": {"name", "description",
// "parameters"}}] and "tool_choice". The router checks names, schemas and
// duplicates (its violations name tools[i].name...: the same paths).
void ParseTools(const json& doc, v1::CompleteRequest* out, FieldViolations* violations) {
  if (auto it = doc.find("functions");
      it != doc.end() && !it->is_null() && !(it->is_array() && it->empty())) {
    violations->Add("functions", "the deprecated functions parameter is not supported: use tools");
  }
  if (auto it = doc.find("tools"); it != doc.end() && !it->is_null()) {
    if (!it->is_array()) {
      violations->Add("tools", "must be an array of {\"type\": \"function\", \"function\": {...}}");
    } else {
      for (size_t i = 0; i < it->size(); ++i) {
        const json& t = (*it)[i];
        const std::string at = absl::StrCat("tools[", i, "]");
        if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") ||
            !t["function"].is_object()) {
          violations->Add(at,
                          "only {\"type\": \"function\", \"function\": {...}} tools are supported");
          continue;
        }
        const json& f = t["function"];
        v1::Tool* tool = out->add_tools();
        if (f.contains("name") && f["name"].is_string()) {
          tool->set_name(f["name"].get<std::string>());
        } else {
          violations->Add(at + ".function.name", "is required");
        }
        if (f.contains("description") && f["description"].is_string()) {
          tool->set_description(f["description"].get<std::string>());
        }
        if (auto p = f.find("parameters"); p != f.end() && !p->is_null()) {
          if (!p->is_object() ||
              !google::protobuf::util::JsonStringToMessage(p->dump(), tool->mutable_parameters())
                   .ok()) {
            violations->Add(at + ".function.parameters", "must be a JSON Schema object");
          }
        }
      }
    }
  }
  if (auto it = doc.find("tool_choice"); it != doc.end() && !it->is_null()) {
    v1::ToolChoice* choice = out->mutable_tool_choice();
    if (it->is_string() && *it == "auto") {
      choice->set_mode(v1::TOOL_CHOICE_MODE_AUTO);
    } else if (it->is_string() && *it == "none") {
      choice->set_mode(v1::TOOL_CHOICE_MODE_NONE);
    } else if (it->is_string() && *it == "required") {
      choice->set_mode(v1::TOOL_CHOICE_MODE_REQUIRED);
    } else if (it->is_object() && it->value("type", "") == "function" &&
               it->value("function", json::object()).is_object() &&
               it->value("function", json::object()).contains("name") &&
               (*it)["function"]["name"].is_string()) {
      choice->set_mode(v1::TOOL_CHOICE_MODE_TOOL);
      choice->set_tool_name((*it)["function"]["name"].get<std::string>());
    } else {
      violations->Add("tool_choice",
                      "must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", "
                      "\"function\": {\"name\": ...}}");
    }
  }
}

}  // namespace

std::string ModelId(const std::string& model_name) {
  return absl::StartsWith(model_name, "models/") ? model_name.substr(7) : model_name;
}

absl::StatusOr<ChatRequest> ParseChatRequest(const std::string& body,
                                             const std::map<std::string, std::string>& headers,
                                             const std::string& default_subject) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(
        "the request body must be a JSON object (an OpenAI chat completion request)");
  }
  // A duplicate key is read one way here and maybe another by a backend.
  std::string strict_field;
  if (auto st = CheckStrictJson(body, &strict_field); !st.ok()) {
    std::string why = absl::StrCat("malformed JSON: ", st.message());
    return strict_field.empty() ? absl::InvalidArgumentError(why) : InvalidField(strict_field, why);
  }
  ChatRequest out;
  v1::CompleteRequest& req = out.request;
  FieldViolations violations;

  out.requested_model = "auto";
  if (auto it = doc.find("model"); it != doc.end() && !it->is_null()) {
    if (!it->is_string()) {
      violations.Add("model", "must be a string: \"auto\" or a model id from GET /v1/models");
    } else if (*it != "auto" && !it->get<std::string>().empty()) {
      out.requested_model = ModelId(it->get<std::string>());
      req.set_model(it->get<std::string>());
    }
  }
  ParseMessages(doc, &req, &violations);

  for (const char* name : {"max_tokens", "max_completion_tokens"}) {  // the latter wins
    auto it = doc.find(name);
    if (it == doc.end() || it->is_null()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1000000) {
      violations.Add(name, "must be an integer from 1 to 1000000");
    } else {
      req.set_max_tokens(static_cast<int32_t>(it->get<int64_t>()));
    }
  }
  if (auto it = doc.find("temperature"); it != doc.end() && !it->is_null()) {
    if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 2) {
      violations.Add("temperature", "must be a number from 0 to 2");
    } else {
      req.set_temperature(it->get<float>());
    }
  }
  if (auto it = doc.find("stream"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      violations.Add("stream", "must be true or false");
    } else {
      out.stream = it->get<bool>();
    }
  }
  if (auto it = doc.find("stream_options"); it != doc.end() && it->is_object()) {
    auto usage = it->find("include_usage");
    out.include_usage = usage != it->end() && usage->is_boolean() && usage->get<bool>();
  }
  if (auto it = doc.find("n"); it != doc.end() && !it->is_null() && *it != 1) {
    violations.Add("n", "only n = 1 is supported");
  }
  ParseTools(doc, &req, &violations);
  if (auto it = doc.find("response_format"); it != doc.end() && it->is_object()) {
    auto type = it->find("type");
    if (type != it->end() && *type == "json_object") {
      req.mutable_constraints()->add_required_capabilities(v1::CAPABILITY_JSON);
    } else if (type != it->end() && *type != "text") {
      violations.Add("response_format.type", "only \"text\" and \"json_object\" are supported");
    }
  }
  req.set_subject(default_subject);
  if (auto it = doc.find("user"); it != doc.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().size() > 256) {
      violations.Add("user", "must be a string of at most 256 characters");
    } else if (!it->get<std::string>().empty()) {
      req.set_subject(it->get<std::string>());
    }
  }

  // Genesis extensions: headers win over body fields.
  std::optional<std::string> task_text, sensitive_text;
  std::string task_field = "genesis_task", sensitive_field = "genesis_sensitive";
  if (auto it = doc.find("genesis_task"); it != doc.end() && !it->is_null()) {
    task_text = it->is_string() ? it->get<std::string>() : it->dump();
  }
  if (auto it = doc.find("genesis_sensitive"); it != doc.end() && !it->is_null()) {
    sensitive_text = it->is_boolean() ? (it->get<bool>() ? "true" : "false") : it->dump();
  }
  if (auto it = headers.find("x-genesis-task"); it != headers.end()) {
    task_text = it->second;
    task_field = "X-Genesis-Task";
  }
  if (auto it = headers.find("x-genesis-sensitive"); it != headers.end()) {
    sensitive_text = it->second;
    sensitive_field = "X-Genesis-Sensitive";
  }
  if (task_text) {
    if (auto task = ParseTask(*task_text)) {
      req.set_task(*task);
    } else {
      // A header value is any bytes: quoted as text the error's JSON can carry.
      violations.Add(task_field, absl::StrCat("'", ToStorableText(*task_text),
                                              "' is not a task: ", kTaskNames));
    }
  }
  if (sensitive_text) {
    if (auto sensitive = ParseBool(*sensitive_text)) {
      req.set_sensitive(*sensitive);
    } else {
      violations.Add(sensitive_field, "must be true or false");
    }
  }
  if (!violations.empty()) return violations.ToStatus();
  return out;
}

namespace {

std::string FinishReason(const std::string& reason) {
  if (reason.empty()) return "stop";
  if (reason == "stop" || reason == "length" || reason == "content_filter" ||
      reason == "tool_calls") {
    return reason;
  }
  return "stop";
}

// The assistant message of an answer: content null when it only called tools.
json MessageJson(const v1::CompleteResponse& r) {
  json message = {{"role", "assistant"}, {"content", r.text()}};
  if (r.tool_calls().empty()) return message;
  if (r.text().empty()) message["content"] = nullptr;
  json calls = json::array();
  for (const auto& c : r.tool_calls()) {
    calls.push_back({{"id", c.id()},
                     {"type", "function"},
                     {"function", {{"name", c.name()}, {"arguments", c.arguments()}}}});
  }
  message["tool_calls"] = std::move(calls);
  return message;
}

json UsageJson(const v1::Usage& usage) {
  return {{"prompt_tokens", usage.input_tokens()},
          {"completion_tokens", usage.output_tokens()},
          {"total_tokens", usage.input_tokens() + usage.output_tokens()}};
}

// What the router adds beyond OpenAI's fields, under "genesis".
json GenesisJson(const v1::CompleteResponse& r) {
  return {
      {"provider", r.provider()},   {"cost_usd", r.cost_usd()}, {"task", v1::Task_Name(r.task())},
      {"sensitive", r.sensitive()}, {"cached", r.cached()},     {"simulated", r.simulated()},
      {"sandbox", r.sandbox()}};
}

}  // namespace

std::string CompletionJson(const v1::CompleteResponse& response, const std::string& id,
                           absl::Time created) {
  json doc = {
      {"id", id},
      {"object", "chat.completion"},
      {"created", absl::ToUnixSeconds(created)},
      {"model", ModelId(response.model())},
      {"choices", json::array({{{"index", 0},
                                {"message", MessageJson(response)},
                                {"logprobs", nullptr},
                                {"finish_reason", FinishReason(response.finish_reason())}}})},
      {"usage", UsageJson(response.usage())},
      {"system_fingerprint", nullptr},
      {"genesis", GenesisJson(response)}};
  return doc.dump();
}

ChunkEncoder::ChunkEncoder(std::string id, absl::Time created, std::string model,
                           bool include_usage)
    : id_(std::move(id)),
      created_(absl::ToUnixSeconds(created)),
      model_(std::move(model)),
      include_usage_(include_usage) {}

std::string ChunkEncoder::Chunk(const std::string& model, const std::string& delta_json,
                                const std::string& finish_reason) const {
  json choice = {{"index", 0},
                 {"delta", json::parse(delta_json)},
                 {"logprobs", nullptr},
                 {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}};
  json doc = {
      {"id", id_},      {"object", "chat.completion.chunk"}, {"created", created_},
      {"model", model}, {"system_fingerprint", nullptr},     {"choices", json::array({choice})}};
  return absl::StrCat("data: ", doc.dump(), "\n\n");
}

absl::StatusOr<std::string> ChunkEncoder::Encode(const std::string& serialized) {
  v1::StreamCompleteResponse message;
  if (!message.ParseFromString(serialized)) {
    return absl::InternalError(
        "the LLM router sent a message that is not a StreamCompleteResponse");
  }
  std::string out;
  if (message.has_tool_call_delta()) {
    const v1::ToolCallDelta& d = message.tool_call_delta();
    json call = {{"index", d.index()}};
    json function = json::object();
    if (!d.id().empty()) {
      call["id"] = d.id();
      call["type"] = "function";
    }
    if (!d.name().empty()) function["name"] = d.name();
    function["arguments"] = d.arguments();
    call["function"] = std::move(function);
    json delta = {{"tool_calls", json::array({std::move(call)})}};
    if (!role_sent_) {
      delta["role"] = "assistant";
      delta["content"] = nullptr;
    }
    role_sent_ = true;
    out += Chunk(model_, delta.dump(), "");
  }
  if (!message.text().empty()) {
    json delta = {{"content", message.text()}};
    if (!role_sent_) delta["role"] = "assistant";
    role_sent_ = true;
    out += Chunk(model_, delta.dump(), "");
  }
  if (message.has_summary()) {
    const v1::CompleteResponse& s = message.summary();
    const std::string model = s.model().empty() ? model_ : ModelId(s.model());
    json delta = json::object();
    if (!role_sent_) delta = {{"role", "assistant"}, {"content", ""}};
    role_sent_ = true;
    out += Chunk(model, delta.dump(), FinishReason(s.finish_reason()));
    if (include_usage_) {
      json doc = {{"id", id_},
                  {"object", "chat.completion.chunk"},
                  {"created", created_},
                  {"model", model},
                  {"system_fingerprint", nullptr},
                  {"choices", json::array()},
                  {"usage", UsageJson(s.usage())}};
      absl::StrAppend(&out, "data: ", doc.dump(), "\n\n");
    }
  }
  return out;
}

std::string ModelListJson(const v1::ListModelsResponse& response) {
  json data = json::array();
  for (const auto& m : response.models()) {
    if (!m.enabled()) continue;
    data.push_back({{"id", ModelId(m.name())},
                    {"object", "model"},
                    {"created", 0},
                    {"owned_by", m.provider().empty() ? "genesis" : m.provider()}});
  }
  return json({{"object", "list"}, {"data", data}}).dump();
}

namespace {

// OpenAI's error type and code for a gRPC code.
std::pair<const char*, const char*> TypeAndCode(int code) {
  switch (static_cast<absl::StatusCode>(code)) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return {"invalid_request_error", "invalid_argument"};
    case absl::StatusCode::kFailedPrecondition:
      return {"invalid_request_error", "failed_precondition"};
    case absl::StatusCode::kUnauthenticated:
      return {"authentication_error", "invalid_api_key"};
    case absl::StatusCode::kPermissionDenied:
      return {"permission_error", "permission_denied"};
    case absl::StatusCode::kNotFound:
      return {"not_found_error", "not_found"};
    case absl::StatusCode::kResourceExhausted:
      return {"rate_limit_error", "rate_limit_exceeded"};
    case absl::StatusCode::kDeadlineExceeded:
      return {"timeout_error", "deadline_exceeded"};
    case absl::StatusCode::kUnavailable:
      return {"api_error", "unavailable"};
    case absl::StatusCode::kUnimplemented:
      return {"invalid_request_error", "unimplemented"};
    default:
      return {"api_error", "internal_error"};
  }
}

}  // namespace

std::string ErrorJson(const google::rpc::Status& status) {
  auto [type, code] = TypeAndCode(status.code());
  json param = nullptr;
  std::string message = status.message();
  for (const auto& detail : status.details()) {
    google::rpc::BadRequest bad;
    if (!detail.UnpackTo(&bad) || bad.field_violations().empty()) continue;
    param = bad.field_violations(0).field();
    std::string all;
    for (const auto& v : bad.field_violations()) {
      absl::StrAppend(&all, all.empty() ? "" : "; ", v.field(), ": ", v.description());
    }
    message = all;
    break;
  }
  if (message.empty()) message = code;
  // A message that is not UTF-8 (a backend's, a quoted header) gets U+FFFD
  // instead of making the serializer throw.
  return json({{"error", {{"message", message}, {"type", type}, {"param", param}, {"code", code}}}})
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

google::rpc::Status StatusFromJson(const std::string& text, int http_status) {
  google::rpc::Status status;
  json doc = json::parse(text, nullptr, false);
  if (doc.is_object() && doc.contains("code") && doc["code"].is_number_integer()) {
    status.set_code(doc["code"].get<int>());
    if (doc.contains("message") && doc["message"].is_string()) {
      status.set_message(doc["message"].get<std::string>());
    }
    if (doc.contains("details") && doc["details"].is_array()) {
      for (const auto& d : doc["details"]) {
        if (d.value("@type", "") != "type.googleapis.com/google.rpc.BadRequest") continue;
        google::rpc::BadRequest bad;
        for (const auto& v : d.value("fieldViolations", json::array())) {
          auto* fv = bad.add_field_violations();
          fv->set_field(v.value("field", ""));
          fv->set_description(v.value("description", ""));
        }
        status.add_details()->PackFrom(bad);
      }
    }
    return status;
  }
  status.set_code(http_status >= 500 ? static_cast<int>(absl::StatusCode::kInternal)
                                     : static_cast<int>(absl::StatusCode::kInvalidArgument));
  status.set_message(text);
  return status;
}

}  // namespace genesis::gateway::openai
