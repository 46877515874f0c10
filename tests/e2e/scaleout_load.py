#!/usr/bin/env python3
"""REST load for the scale-out tests: what users of the gateway do, each call's outcome kept.

Runs the kinds of load given until the file --stop exists (or, for webhooks, until --webhooks
were sent), then prints one JSON object: for each kind the count of each HTTP status, a few
examples of failed calls, and for webhooks the ids acknowledged (200).

  --catalog_writers N   creates items "wN-I" with request_id the same; a failed create is
                        repeated with its request_id until acknowledged (20 s), as a client
                        would; only the repeats' statuses are counted as errors ("retried")
  --catalog_readers N   GETs of --read_items in turn
  --complete N          LLM router completions (POST /v1/llm:complete, no request_id: never
                        repeated), N callers one after another
  --stream N            streamed completions (POST /v1/llm:streamComplete, SSE); a stream
                        counts as 200 only when it ended with its summary event and no error
                        event (else 599)
  --cases N             reasoning cases created (POST /v1/cases, never repeated)
  --voices N            voice listings (GET /v1/voices)
  --webhooks COUNT      COUNT Telegram webhooks for bot --bot (secret in $SCALEOUT_TG_SECRET),
                        --webhook_concurrency at once (at most --rate a second in all), from
                        --contacts chats, until --stop exists; one redelivered on a non-200
                        (as Telegram does) until acknowledged (30 s)
"""
import argparse
import json
import os
import sys
import threading
import time
import http.client
import urllib.parse

lock = threading.Lock()
connections = threading.local()
summary = {}
acked_updates = []


def record(kind, status, detail=""):
    with lock:
        k = summary.setdefault(kind, {"codes": {}, "examples": []})
        k["codes"][str(status)] = k["codes"].get(str(status), 0) + 1
        if status != 200 and len(k["examples"]) < 5:
            k["examples"].append(f"{status} {detail}"[:300])


def call(gw, method, path, body=None, headers=None, timeout=30):
    """One call on this thread's keep-alive connection (opened again after an error or a
    close), as an HTTP client library does."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    h = {"Content-Type": "application/json"} if data is not None else {}
    h.update(headers or {})
    conn = getattr(connections, "conn", None)
    if conn is None:
        u = urllib.parse.urlsplit(gw)
        conn = connections.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        if r.will_close:
            conn.close()
            connections.conn = None
        return r.status, text
    except Exception as e:  # refused, reset, timed out: no HTTP status
        conn.close()
        connections.conn = None
        return 0, repr(e)


def pause(status):
    """After a failed call, as a client would, rather than a tight loop."""
    if status != 200:
        time.sleep(0.05)


def stopped(args):
    return os.path.exists(args.stop)


def catalog_writer(args, n, out):
    i = 0
    while not stopped(args):
        i += 1
        title = f"w{n}-{i}"
        give_up = time.time() + 20
        first = True
        while True:
            status, body = call(args.gateway, "POST", f"/v1/items?request_id={title}",
                                {"type": "lead", "title": title})
            record("create" if first else "create_retried", status, body)
            first = False
            if status == 200:
                with lock:
                    out.write(f"ack {title} {json.loads(body)['name']}\n")
                break
            if time.time() >= give_up:
                with lock:
                    out.write(f"gaveup {title}\n")
                break
            time.sleep(0.05)


def catalog_reader(args):
    items = args.read_items.split(",")
    i = 0
    while not stopped(args):
        name = items[i % len(items)]
        i += 1
        status, body = call(args.gateway, "GET", f"/v1/{name}")
        record("read", status, body)
        pause(status)


def complete(args, n):
    i = 0
    while not stopped(args):
        i += 1
        status, body = call(args.gateway, "POST", "/v1/llm:complete",
                            {"model": "sim-local", "noCache": True,
                             "messages": [{"role": "ROLE_USER", "content": f"c{n}-{i}"}]})
        record("complete", status, body)
        pause(status)


def stream(args):
    body = {"model": "sim-local", "noCache": True,
            "messages": [{"role": "ROLE_USER", "content": "a stream through a rolling restart"}]}
    while not stopped(args):
        status, text = call(args.gateway, "POST", "/v1/llm:streamComplete", body,
                            {"Accept": "text/event-stream"})
        lines = text.strip().splitlines()
        # Complete: no error event, and the last event carries the summary.
        if status == 200 and ("event: error" in text or not lines or '"summary"' not in lines[-1]):
            status = 599
        record("stream", status, text[-200:])
        pause(status)


def case(args, n):
    i = 0
    while not stopped(args):
        i += 1
        status, body = call(args.gateway, "POST", "/v1/cases",
                            {"question": f"q{n}-{i}", "owner": "scaleout"})
        record("case", status, body)
        pause(status)


def voices(args):
    while not stopped(args):
        status, body = call(args.gateway, "GET", "/v1/voices")
        record("voices", status, body)
        pause(status)


def webhooks(args):
    secret = os.environ["SCALEOUT_TG_SECRET"]
    next_id = [args.first_update]
    last = args.first_update + args.webhooks

    def one():
        while True:
            with lock:
                uid = next_id[0]
                if uid >= last or stopped(args):
                    return
                next_id[0] += 1
            chat = 7000 + uid % args.contacts
            body = json.dumps({"update_id": uid, "message": {
                "message_id": uid, "from": {"id": chat}, "chat": {"id": chat},
                "text": f"mensagem {uid}"}}).encode()
            give_up = time.time() + 30
            first = True
            while True:
                status, text = call(args.gateway, "POST", f"/v1/webhooks/telegram/{args.bot}", body,
                                    {"X-Telegram-Bot-Api-Secret-Token": secret})
                record("webhook" if first else "webhook_redelivered", status, text)
                first = False
                if status == 200:
                    with lock:
                        acked_updates.append(uid)
                    break
                if time.time() >= give_up:
                    break
                time.sleep(0.1)
            if args.rate > 0:
                time.sleep(args.webhook_concurrency / args.rate)

    threads = [threading.Thread(target=one) for _ in range(args.webhook_concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gateway", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--acks", default=os.devnull, help="where catalog writers log acks")
    p.add_argument("--catalog_writers", type=int, default=0)
    p.add_argument("--catalog_readers", type=int, default=0)
    p.add_argument("--read_items", default="")
    p.add_argument("--complete", type=int, default=0)
    p.add_argument("--stream", type=int, default=0)
    p.add_argument("--cases", type=int, default=0)
    p.add_argument("--voices", type=int, default=0)
    p.add_argument("--webhooks", type=int, default=0)
    p.add_argument("--bot", default="tg")
    p.add_argument("--first_update", type=int, default=1)
    p.add_argument("--contacts", type=int, default=50)
    p.add_argument("--webhook_concurrency", type=int, default=8)
    p.add_argument("--rate", type=float, default=0)
    args = p.parse_args()

    threads = []
    with open(args.acks, "a", buffering=1) as out:
        spawn = lambda f, *a: threads.append(threading.Thread(target=f, args=a))
        for n in range(args.catalog_writers):
            spawn(catalog_writer, args, n, out)
        for _ in range(args.catalog_readers):
            spawn(catalog_reader, args)
        for n in range(args.complete):
            spawn(complete, args, n)
        for _ in range(args.stream):
            spawn(stream, args)
        for n in range(args.cases):
            spawn(case, args, n)
        for _ in range(args.voices):
            spawn(voices, args)
        if args.webhooks:
            spawn(webhooks, args)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    result = {"kinds": summary}
    if args.webhooks:
        result["acked_updates"] = sorted(acked_updates)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
