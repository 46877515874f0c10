// The Voice transport: genesis.voice.v1.VoiceService on the gRPC callback
// API. It only converts protos to domain types and back and runs the logic on
// the dispatchers; errors are converted once (common/status.h).
// StreamTranscribe is a bidirectional stream with its own reactor: each
// message is processed on the worker pool, one at a time, and the next read
// starts only when the previous message was handled (flow control). Like the
// dispatched RPCs, it echoes (or makes) the x-request-id and takes the
// caller's identity from the gateway metadata only with the gateway secret
// (ReadForwardedIdentity in common/rpc.h).
#pragma once

#include "common/rpc.h"
#include "common/stream_rpc.h"
#include "genesis/voice/v1/voice.grpc.pb.h"
#include "services/voice/voice.h"

namespace genesis::voice {

class VoiceGrpcService final : public v1::VoiceService::CallbackService {
 public:
  // Pointers must outlive the service.
  VoiceGrpcService(Voice* voice, RpcDispatcher* unary, ServerStreamDispatcher* streams,
                   WorkerPool* pool)
      : voice_(voice), unary_(unary), streams_(streams), pool_(pool) {}

  // The secret the gateway forwards identities with, for StreamTranscribe
  // (the dispatchers have their own); empty trusts none. Before serving.
  void set_gateway_secret(std::string secret) { gateway_secret_ = std::move(secret); }

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
  WorkerPool* pool_;
  std::string gateway_secret_;
};

}  // namespace genesis::voice
