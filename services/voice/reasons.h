// The google.rpc.ErrorInfo reasons of the voice service (domain
// voice.genesis.dev), each listed in README.md ("Error reasons").
#pragma once

namespace genesis::voice::reasons {

// No engine handles the requested language (metadata language).
inline constexpr char kLanguageNotSupported[] = "LANGUAGE_NOT_SUPPORTED";
// Every engine that could serve the request failed.
inline constexpr char kEngineUnavailable[] = "ENGINE_UNAVAILABLE";
// Converse without an LLM router configured.
inline constexpr char kLlmRouterNotConfigured[] = "LLM_ROUTER_NOT_CONFIGURED";
// The model's reply held no text.
inline constexpr char kEmptyModelReply[] = "EMPTY_MODEL_REPLY";

}  // namespace genesis::voice::reasons
