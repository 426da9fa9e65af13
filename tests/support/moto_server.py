"""moto server as the tests and CI run it: `moto_server`, with DynamoDB's atomicity.

DynamoDB applies a conditional write atomically: two concurrent
`UpdateItem ... ConditionExpression` calls on one item never both pass.
moto's server handles requests on threads and checks a condition and then
writes without a lock, so two concurrent conditional writes can both pass
there. This entry point serialises the DynamoDB API (requests whose
`X-Amz-Target` starts with `DynamoDB_`), so conditional writes behave as in
AWS; every other service (SQS long polls included) stays concurrent.

Usage: python moto_server.py -H 127.0.0.1 -p PORT
"""

import argparse
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

_dynamodb = threading.Lock()


def serialise_dynamodb(app):
    def wrapped(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with _dynamodb:
                # The body is produced inside the lock: moto builds it eagerly.
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wrapped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        serialise_dynamodb(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
