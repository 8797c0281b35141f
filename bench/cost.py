"""What a run would cost on AWS: the billed units moto's meter counted (DynamoDB, SQS, Secrets Manager) and the
functions' invocations, priced at AWS's published on-demand rates (us-east-1, arm64, no free tier).

How the meter works DynamoDB's units out: `devstack/meter.py`. Lambda duration is devstack's wall time per
invocation on this 2-core machine, where every function and both emulators share the cores: an upper bound of
what Lambda would bill.
"""

from dataclasses import dataclass

from bench.results import Metric
from devstack.meter import Reading
from devstack.runtime import FunctionRuntime

# us-east-1 on-demand list prices, USD.
LAMBDA_GB_SECOND_ARM = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_READ_UNIT = 0.125 / 1e6
SQS_STANDARD_REQUEST = 0.40 / 1e6
SQS_FIFO_REQUEST = 0.50 / 1e6
HTTP_API_REQUEST = 1.00 / 1e6
SECRETS_MANAGER_CALL = 0.05 / 10_000

GATEWAY_FUNCTIONS = ("WebhookFunction", "OAuthFunction", "SettingsFunction", "ActionsFunction", "HealthFunction")


@dataclass(frozen=True)
class Bill:
    lambda_gb_seconds: float
    lambda_requests: int
    read_units: float
    write_units: float
    sqs_standard: int
    sqs_fifo: int
    gateway_requests: int
    secrets_calls: int

    def items(self) -> dict[str, float]:
        """USD per line of the bill."""
        return {
            "Lambda": self.lambda_gb_seconds * LAMBDA_GB_SECOND_ARM + self.lambda_requests * LAMBDA_REQUEST,
            "DynamoDB": self.read_units * DYNAMODB_READ_UNIT + self.write_units * DYNAMODB_WRITE_UNIT,
            "SQS": self.sqs_standard * SQS_STANDARD_REQUEST + self.sqs_fifo * SQS_FIFO_REQUEST,
            "API Gateway": self.gateway_requests * HTTP_API_REQUEST,
            "Secrets Manager": self.secrets_calls * SECRETS_MANAGER_CALL,
        }


def bill(reading: Reading, invocations: dict[str, tuple[int, float, int]]) -> Bill:
    """`invocations`: per function, (count, wall seconds, memory MB) over the run."""
    units = reading.units
    return Bill(
        lambda_gb_seconds=sum(seconds * memory / 1024 for _, seconds, memory in invocations.values()),
        lambda_requests=sum(count for count, _, _ in invocations.values()),
        read_units=units.get("dynamodb_read_units", 0.0),
        write_units=units.get("dynamodb_write_units", 0.0),
        sqs_standard=int(units.get("sqs_standard_requests", 0)),
        sqs_fifo=int(units.get("sqs_fifo_requests", 0)),
        gateway_requests=sum(invocations.get(f, (0, 0.0, 0))[0] for f in GATEWAY_FUNCTIONS),
        secrets_calls=int(units.get("secrets_manager_calls", 0)),
    )


def invocations_since(runtimes: dict[str, FunctionRuntime], marks: dict[str, int]) -> dict[str, tuple[int, float, int]]:
    """Per function, the invocations after `marks` (counts taken before the run)."""
    out = {}
    for name, runtime in runtimes.items():
        records = runtime.invocations[marks.get(name, 0) :]
        out[name] = (len(records), sum(r.duration_ms for r in records) / 1000, runtime.spec.memory_mb)
    return out


def metrics(reading: Reading, invocations: dict[str, tuple[int, float, int]], records: int, what: str) -> list[Metric]:
    """The run's bill scaled to 10,000 records, as metrics."""
    run = bill(reading, invocations)
    scale = 10_000 / max(records, 1)
    lines = run.items()
    basis = f"{what}: {records} records in the run, scaled to 10,000"
    breakdown = ", ".join(f"{name} ${usd * scale:.4f}" for name, usd in lines.items())
    return [
        Metric(
            "AWS cost of 10,000 synced records",
            round(sum(lines.values()) * scale, 4),
            "USD",
            note=f"{basis}; {breakdown}; us-east-1 on-demand list prices, arm64, no free tier",
        ),
        Metric(
            "Lambda GB-seconds per 10,000 records",
            round(run.lambda_gb_seconds * scale, 1),
            "GB-s",
            note=f"{basis}; {round(run.lambda_requests * scale)} invocations; devstack wall time (an upper bound)",
        ),
        Metric(
            "DynamoDB read units per 10,000 records",
            round(run.read_units * scale),
            "RRU",
            note=f"{basis}; worked out from each request's items",
        ),
        Metric(
            "DynamoDB write units per 10,000 records",
            round(run.write_units * scale),
            "WRU",
            note=f"{basis}; worked out from each request's items",
        ),
        Metric(
            "SQS requests per 10,000 records",
            round((run.sqs_standard + run.sqs_fifo) * scale),
            "requests",
            note=f"{basis}; {round(run.sqs_fifo * scale)} FIFO; receives included (the event source mapping's "
            "polls are billed too)",
        ),
    ]
