// The Voice transport: genesis.voice.v1.VoiceService on the gRPC callback
// API. It only converts protos to domain types and back and runs the logic on
// the dispatchers; errors are converted once (common/base/status.h).
// Every method, unary, server-streaming or bidirectional (StreamTranscribe),
// goes through the common call path (common/rpc/call_path.h): request id,
// deadline cap, caller identity, metrics and outcome logging.
#pragma once

#include "common/rpc/bidi_rpc.h"
#include "common/rpc/rpc.h"
#include "common/rpc/stream_rpc.h"
#include "genesis/voice/v1/voice.grpc.pb.h"
#include "services/voice/voice.h"

namespace genesis::voice {

class VoiceGrpcService final : public v1::VoiceService::CallbackService {
 public:
  // Pointers must outlive the service.
  VoiceGrpcService(Voice* voice, RpcDispatcher* unary, ServerStreamDispatcher* streams,
                   BidiDispatcher* bidi)
      : voice_(voice), unary_(unary), streams_(streams), bidi_(bidi) {}

  grpc::ServerUnaryReactor* Synthesize(grpc::CallbackServerContext* ctx,
                                       const v1::SynthesizeRequest* req,
                                       v1::SynthesizeResponse* resp) override;
  grpc::ServerUnaryReactor* SynthesizeAudio(grpc::CallbackServerContext* ctx,
                                            const v1::SynthesizeAudioRequest* req,
                                            google::api::HttpBody* resp) override;
  grpc::ServerWriteReactor<v1::StreamSynthesizeResponse>* StreamSynthesize(
      grpc::CallbackServerContext* ctx, const v1::StreamSynthesizeRequest* req) override;
  grpc::ServerUnaryReactor* ListVoices(grpc::CallbackServerContext* ctx,
                                       const v1::ListVoicesRequest* req,
                                       v1::ListVoicesResponse* resp) override;
  grpc::ServerUnaryReactor* ListEngines(grpc::CallbackServerContext* ctx,
                                        const v1::ListEnginesRequest* req,
                                        v1::ListEnginesResponse* resp) override;
  grpc::ServerUnaryReactor* Transcribe(grpc::CallbackServerContext* ctx,
                                       const v1::TranscribeRequest* req,
                                       v1::TranscribeResponse* resp) override;
  grpc::ServerBidiReactor<v1::StreamTranscribeRequest, v1::StreamTranscribeResponse>*
  StreamTranscribe(grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* Converse(grpc::CallbackServerContext* ctx,
                                     const v1::ConverseRequest* req,
                                     v1::ConverseResponse* resp) override;
  grpc::ServerWriteReactor<v1::StreamConverseResponse>* StreamConverse(
      grpc::CallbackServerContext* ctx, const v1::StreamConverseRequest* req) override;
  grpc::ServerUnaryReactor* ListInteractions(grpc::CallbackServerContext* ctx,
                                             const v1::ListInteractionsRequest* req,
                                             v1::ListInteractionsResponse* resp) override;

 private:
  Voice* voice_;
  RpcDispatcher* unary_;
  ServerStreamDispatcher* streams_;
  BidiDispatcher* bidi_;
};

}  // namespace genesis::voice
