// The google.rpc.ErrorInfo reasons of the bot manager (domain bot.genesis.dev),
// each listed in README.md ("Error reasons").
#pragma once

namespace genesis::bot::reasons {

// The bot does not exist (metadata bot).
inline constexpr char kBotNotFound[] = "BOT_NOT_FOUND";
// CreateBot of a bot id already taken.
inline constexpr char kBotAlreadyExists[] = "BOT_ALREADY_EXISTS";
// The conversation does not exist (metadata conversation).
inline constexpr char kConversationNotFound[] = "CONVERSATION_NOT_FOUND";
// The proactive message does not exist (metadata proactive_message).
inline constexpr char kProactiveMessageNotFound[] = "PROACTIVE_MESSAGE_NOT_FOUND";
// The bot changed since the etag was read (metadata bot).
inline constexpr char kEtagMismatch[] = "ETAG_MISMATCH";
// Another request changed the bot between its read and this write; retry.
inline constexpr char kConcurrentModification[] = "CONCURRENT_MODIFICATION";
// Another agent holds the conversation (metadata agent).
inline constexpr char kConversationHeldByOther[] = "CONVERSATION_HELD_BY_OTHER";
// ReplyToConversation by an agent who does not hold the conversation.
inline constexpr char kConversationNotHeld[] = "CONVERSATION_NOT_HELD";
// ReleaseConversation of a conversation already with the bot.
inline constexpr char kConversationWithBot[] = "CONVERSATION_WITH_BOT";
// The recipient has the daily maximum of proactive messages (metadata limit;
// RetryInfo: until the next UTC day).
inline constexpr char kProactiveDailyLimit[] = "PROACTIVE_DAILY_LIMIT";
// ApproveProactiveMessage of a message not awaiting approval.
inline constexpr char kProactiveNotAwaitingApproval[] = "PROACTIVE_NOT_AWAITING_APPROVAL";
// The request_id was used before for a different bot or message.
inline constexpr char kRequestIdReused[] = "REQUEST_ID_REUSED";

}  // namespace genesis::bot::reasons
