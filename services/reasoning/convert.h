// Conversions between the Reasoning protos (genesis.reasoning.v1) and the
// domain types. Output conversions build resource names from ids.
#pragma once

#include "genesis/reasoning/v1/reasoning.pb.h"
#include "services/reasoning/model.h"
#include "services/reasoning/reasoning.h"

namespace genesis::reasoning {

// `full`: with hypotheses, evidence and decisions (GetCase), or without (ListCases).
v1::Case ToProto(const Case& c, bool full = true);
v1::Hypothesis ToProto(const Case& c, const Hypothesis& h);
v1::Evidence ToProto(const std::string& case_id, const Evidence& e);
v1::CaseEvent ToProto(const Event& e);
v1::Inference ToProto(const CaseInference& inference);
v1::Rating ToProto(const std::string& case_id, const Rating& r);

// Input conversions (names are left as given; the logic parses them).
Case FromProto(const v1::Case& c);
// An absent prior becomes 1.
Hypothesis FromProto(const v1::Hypothesis& h);
// An absent reliability becomes NaN ("not given"); an absent observe_time InfinitePast.
Evidence FromProto(const v1::Evidence& e);

absl::Time TimeFromProto(const google::protobuf::Timestamp& t);

}  // namespace genesis::reasoning
