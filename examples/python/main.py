"""Calls every Genesis service once over mutual TLS with the genesis-clients package.

    python3 main.py --ca CA.pem --cert ME.crt --key ME.key --catalog HOST:PORT \
        --llm-router HOST:PORT --reasoning HOST:PORT --bot HOST:PORT --voice HOST:PORT

(with scripts/run.sh: the addresses it prints, and .genesis/run/tls/{ca,admin}.*).
Exits 1 when a call that should work fails, or the invalid one is not refused with its
BadRequest.
"""

import argparse
import sys

import grpc
from google.protobuf import struct_pb2

import genesis_clients
from genesis.bot.v1 import bot_manager_pb2, bot_manager_pb2_grpc
from genesis.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from genesis.llmrouter.v1 import llm_router_pb2, llm_router_pb2_grpc
from genesis.reasoning.v1 import reasoning_pb2, reasoning_pb2_grpc
from genesis.voice.v1 import voice_pb2, voice_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

TIMEOUT_S = 5.0  # the deadline of every call


def main() -> int:
    p = argparse.ArgumentParser()
    for flag in ("ca", "cert", "key", "catalog", "llm-router", "reasoning", "bot", "voice"):
        p.add_argument("--" + flag, required=True)
    p.add_argument("--type", default="lead", help="the item type id to create")
    args = p.parse_args()

    def channel(address: str) -> grpc.Channel:
        return genesis_clients.secure_channel(
            address, ca_file=args.ca, cert_file=args.cert, key_file=args.key
        )

    failures = 0

    # Catalog: a type, an item of it (idempotent with request_id), the item read back.
    catalog = catalog_pb2_grpc.CatalogServiceStub(channel(args.catalog))
    try:
        item_type = catalog.CreateItemType(
            catalog_pb2.CreateItemTypeRequest(
                item_type_id=args.type,
                item_type=catalog_pb2.ItemType(
                    display_name="Lead",
                    attributes=[
                        catalog_pb2.AttributeDefinition(
                            name="city", kind=catalog_pb2.ATTRIBUTE_KIND_STRING
                        )
                    ],
                ),
            ),
            timeout=TIMEOUT_S,
            metadata=genesis_clients.call_metadata("example-create-type"),
        )
        print(f"catalog CreateItemType: {item_type.name}")
        attributes = struct_pb2.Struct()
        attributes.update({"city": "Recife"})
        create_item = catalog_pb2.CreateItemRequest(
            request_id="example-item-1",
            item=catalog_pb2.Item(
                type=item_type.name, title="Ana from Recife", attributes=attributes
            ),
        )
        item, call = catalog.CreateItem.with_call(
            create_item, timeout=TIMEOUT_S, metadata=genesis_clients.call_metadata()
        )
        request_id = dict(call.initial_metadata()).get("x-request-id", "")
        print(f"catalog CreateItem: {item.name} (x-request-id {request_id})")
        # A retry with the same request_id (say, after a timeout) creates nothing new.
        again = catalog.CreateItem(create_item, timeout=TIMEOUT_S)
        print(f"catalog CreateItem retried: {again.name}")
        got = catalog.GetItem(catalog_pb2.GetItemRequest(name=item.name), timeout=TIMEOUT_S)
        print(f'catalog GetItem: {got.name} "{got.title}" ({got.type})')
    except grpc.RpcError as e:
        details = genesis_clients.error_details(e)
        print(f"catalog failed: {details.code.name}: {details.message}")
        failures += 1

    # An invalid call: an item with neither type nor title. Its details name the fields.
    try:
        catalog.CreateItem(
            catalog_pb2.CreateItemRequest(item=catalog_pb2.Item(body="no type, no title")),
            timeout=TIMEOUT_S,
        )
        print("the invalid CreateItem was accepted")
        failures += 1
    except grpc.RpcError as e:
        details = genesis_clients.error_details(e)
        violations = ", ".join(f for f, _ in details.field_violations)
        reason = f"; reason {details.error_info.reason}" if details.error_info else ""
        print(f"catalog CreateItem (invalid): {details.code.name}: {details.message}")
        print(f"  BadRequest violations: {violations}{reason}")
        if details.code != grpc.StatusCode.INVALID_ARGUMENT or not details.field_violations:
            print("the invalid CreateItem was not refused with a BadRequest")
            failures += 1

    # One call on each other service, and the standard health check.
    calls = [
        (
            "llmrouter ListModels",
            lambda: llm_router_pb2_grpc.LlmRouterServiceStub(channel(args.llm_router)).ListModels(
                llm_router_pb2.ListModelsRequest(), timeout=TIMEOUT_S
            ),
            lambda r: f"{len(r.models)} models"
            + (f", first {r.models[0].name}" if r.models else ""),
        ),
        (
            "reasoning ListCases",
            lambda: reasoning_pb2_grpc.ReasoningServiceStub(channel(args.reasoning)).ListCases(
                reasoning_pb2.ListCasesRequest(), timeout=TIMEOUT_S
            ),
            lambda r: f"{len(r.cases)} cases",
        ),
        (
            "bot ListBots",
            lambda: bot_manager_pb2_grpc.BotManagerServiceStub(channel(args.bot)).ListBots(
                bot_manager_pb2.ListBotsRequest(), timeout=TIMEOUT_S
            ),
            lambda r: f"{len(r.bots)} bots",
        ),
        (
            "voice ListVoices",
            lambda: voice_pb2_grpc.VoiceServiceStub(channel(args.voice)).ListVoices(
                voice_pb2.ListVoicesRequest(), timeout=TIMEOUT_S
            ),
            lambda r: f"{len(r.voices)} voices"
            + (f", first {r.voices[0].name}" if r.voices else ""),
        ),
        (
            "health Check",
            lambda: health_pb2_grpc.HealthStub(channel(args.catalog)).Check(
                health_pb2.HealthCheckRequest(), timeout=TIMEOUT_S
            ),
            lambda r: health_pb2.HealthCheckResponse.ServingStatus.Name(r.status),
        ),
    ]
    for name, call_fn, show in calls:
        try:
            print(f"{name}: {show(call_fn())}")
        except grpc.RpcError as e:
            details = genesis_clients.error_details(e)
            print(f"{name} failed: {details.code.name}: {details.message}")
            failures += 1
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
