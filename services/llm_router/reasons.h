// The google.rpc.ErrorInfo reasons of the LLM router (domain
// llmrouter.genesis.dev), each listed in README.md ("Error reasons").
#pragma once

namespace genesis::llmrouter::reasons {

// A budget of the subject or agent is spent (metadata scope, owner, period;
// RetryInfo: until the period ends).
inline constexpr char kBudgetExceeded[] = "BUDGET_EXCEEDED";
// Every model that could take the request is at its provider rate limit
// (RetryInfo: until the next rate window).
inline constexpr char kRateLimited[] = "RATE_LIMITED";
// The models that could take the request have their circuit breaker open
// (RetryInfo: the shortest remaining open time).
inline constexpr char kCircuitOpen[] = "CIRCUIT_OPEN";
// Every model tried failed (provider errors, timeouts).
inline constexpr char kProviderUnavailable[] = "PROVIDER_UNAVAILABLE";
// The provider refused the request as invalid or too large (metadata model).
inline constexpr char kProviderRejectedRequest[] = "PROVIDER_REJECTED_REQUEST";
// The request is sensitive (P0) and no local model can take it.
inline constexpr char kSensitiveNoLocalModel[] = "SENSITIVE_NO_LOCAL_MODEL";
// No model meets the request's task, capabilities, context or cost limit.
inline constexpr char kNoEligibleModel[] = "NO_ELIGIBLE_MODEL";
// The budgets or settings of the subject could not be read (retry).
inline constexpr char kSettingsUnavailable[] = "SETTINGS_UNAVAILABLE";
// The model is not in the registry (metadata model).
inline constexpr char kModelNotFound[] = "MODEL_NOT_FOUND";
// The experiment does not exist (metadata experiment).
inline constexpr char kExperimentNotFound[] = "EXPERIMENT_NOT_FOUND";
// CreateExperiment of an experiment id already taken.
inline constexpr char kExperimentAlreadyExists[] = "EXPERIMENT_ALREADY_EXISTS";
// StopExperiment of an experiment already stopped.
inline constexpr char kExperimentStopped[] = "EXPERIMENT_STOPPED";
// Another experiment already runs on the task.
inline constexpr char kExperimentConflict[] = "EXPERIMENT_CONFLICT";
// The request_id was used before for a different experiment.
inline constexpr char kRequestIdReused[] = "REQUEST_ID_REUSED";

}  // namespace genesis::llmrouter::reasons
