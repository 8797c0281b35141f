"""The devstack: template.yaml deployed into moto, served by a local gateway, pump and scheduler."""

import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import boto3

from devstack import deploy, topology
from devstack.cfn_yaml import load_template
from devstack.complete import complete_stack, secret_names
from devstack.gateway import Gateway, RouteTable
from devstack.intrinsics import Resolver, UnresolvableError, evaluate_conditions
from devstack.moto_process import start_in_process
from devstack.pump import QueuePump
from devstack.runtime import FunctionRuntime, install_environment_overlay
from devstack.scheduler import Scheduler

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"

_moto_lock = threading.Lock()
_moto_url: str | None = None
_children: list[subprocess.Popen[str]] = []  # held open: the child serves while its input is open


def moto_url() -> str:
    """Start moto's server on a free loopback port once per process; return its URL. It runs in a process of
    its own (the machine's second core) unless DEVSTACK_MOTO=inline keeps it in this one."""
    global _moto_url  # noqa: PLW0603 - one moto server per process, shared by every stack
    with _moto_lock:
        if _moto_url is None:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            _moto_url = start_in_process() if os.environ.get("DEVSTACK_MOTO") == "inline" else _moto_apart()
        return _moto_url


def _moto_apart() -> str:
    """moto's server in a child process that ends when this one does (its standard input closes)."""
    child = subprocess.Popen(  # noqa: S603 - this interpreter, a script of this repository
        [sys.executable, str(ROOT / "devstack" / "moto_process.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )
    assert child.stdout is not None
    ready = child.stdout.readline().split()
    if ready[:1] != ["ready"]:
        raise RuntimeError(f"moto's process did not start (exit {child.poll()})")
    _children.append(child)
    return ready[1]


def aws_environment(endpoint: str) -> dict[str, str]:
    """What every process talking to moto needs; no real credentials ever."""
    return {
        "AWS_ACCESS_KEY_ID": "devstack",
        "AWS_SECRET_ACCESS_KEY": "devstack",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


@dataclass
class Devstack:
    """Deploys a SAM template into moto and runs it; use as a context manager."""

    template: Path = ROOT / "template.yaml"
    stack_name: str = "hubbooks-dev"
    parameters: dict[str, str] = field(default_factory=dict)
    time_scale: float = 1.0
    pollers: int = 2
    gateway_port: int = 0
    run_pumps: bool = True
    run_schedules: bool = True
    # Schedules' rate multiplier when it should differ from time_scale (which also scales retries).
    schedule_scale: float | None = None
    # Added to every function's environment (e.g. quieter Powertools output for the demo).
    function_environment: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.endpoint = moto_url()
        install_environment_overlay()
        os.environ.update(aws_environment(self.endpoint))
        self.runtimes: dict[str, FunctionRuntime] = {}
        self.pumps: list[QueuePump] = []
        self.physical: dict[str, str] = {}
        self.transformed: dict[str, Any] = {}
        self._gateway: Gateway | None = None
        self._scheduler: Scheduler | None = None

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)

    # -- deployment --------------------------------------------------------------------------------

    def _parameter_values(self, template: dict[str, Any]) -> dict[str, str]:
        values = {
            name: str(spec["Default"]) for name, spec in template.get("Parameters", {}).items() if "Default" in spec
        }
        return values | self.parameters

    def _attribute(self, logical_id: str, attribute: str) -> str:
        resource_type = self.transformed["Resources"][logical_id]["Type"]
        physical = self.physical[logical_id]
        arn_prefix = f"arn:aws:{{}}:{REGION}:{ACCOUNT_ID}"
        match resource_type, attribute:
            case "AWS::SQS::Queue", "Arn":
                return f"{arn_prefix.format('sqs')}:{physical.rsplit('/', 1)[1]}"
            case "AWS::SQS::Queue", "QueueName":
                return physical.rsplit("/", 1)[1]
            case "AWS::SQS::Queue", "QueueUrl":
                return physical
            case "AWS::DynamoDB::Table", "Arn":
                return f"{arn_prefix.format('dynamodb')}:table/{physical}"
            case "AWS::Lambda::Function", "Arn":
                return f"{arn_prefix.format('lambda')}:function:{physical}"
            case "AWS::KMS::Key", "Arn":
                return f"{arn_prefix.format('kms')}:key/{physical}"
            case "AWS::SNS::Topic", "TopicArn":
                return physical
            case "AWS::SNS::Topic", "TopicName":
                return physical.rsplit(":", 1)[1]
            case "AWS::Logs::LogGroup", "Arn":
                return f"{arn_prefix.format('logs')}:log-group:{physical}:*"
        raise UnresolvableError(f"Fn::GetAtt {logical_id}.{attribute} ({resource_type})")

    def _resolver(self, parameters: dict[str, str]) -> Resolver:
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }
        resolver = Resolver(
            parameters=parameters | pseudo,
            physical_ids=self.physical,
            attribute=self._attribute,
            mappings=self.transformed.get("Mappings", {}),
        )
        conditions = evaluate_conditions(self.transformed.get("Conditions", {}), resolver)
        return Resolver(resolver.parameters, self.physical, self._attribute, resolver.mappings, conditions)

    def deploy(self) -> None:
        source = load_template(self.template)
        code_dirs = deploy.package_code(source, self.template.parent, self.client("s3"))
        parameters = self._parameter_values(source)
        self.transformed = deploy.transform_template(source, parameters, self.client("iam"))
        secrets = secret_names(self.transformed, self._resolver(parameters))
        cfn = self.client("cloudformation")
        deploy.create_stack(cfn, self.stack_name, deploy.deployable(self.transformed, secrets), self.parameters)
        self.physical = deploy.physical_ids(cfn, self.stack_name) | secrets
        resolver = self._resolver(parameters)
        complete_stack(self.transformed, self.client, resolver)
        specs = topology.functions(self.transformed, code_dirs, self.physical, self.client("lambda"))
        self.runtimes = {
            logical_id: FunctionRuntime(
                # moto's endpoint in each function's own environment too: a test in the same process that
                # changes the process's (moto in-process, for a service test) never sends a function to AWS.
                replace(
                    spec, environment=aws_environment(self.endpoint) | spec.environment | self.function_environment
                ),
                self.time_scale,
            )
            for logical_id, spec in specs.items()
        }
        self.routes = topology.routes(self.transformed)
        self.queue_mappings = topology.queue_mappings(self.transformed, self.client("sqs"), resolver)
        self.schedules = topology.schedules(self.transformed, resolver)

    # -- running -----------------------------------------------------------------------------------

    def invoke(self, function: str, event: Any) -> Any:
        return self.runtimes[function].invoke(event)

    @property
    def gateway_url(self) -> str:
        if self._gateway is None:
            raise RuntimeError("devstack is not started")
        return self._gateway.url

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            raise RuntimeError("devstack is not started")
        return self._scheduler

    def start(self) -> Self:
        # The gateway binds its port first, so a template's PublicBaseUrl can be the gateway's own URL.
        self._gateway = Gateway([], self.invoke, port=self.gateway_port)
        if "PublicBaseUrl" in load_template(self.template).get("Parameters", {}):
            self.parameters.setdefault("PublicBaseUrl", self._gateway.url)
        self.deploy()
        self._gateway.table = RouteTable(self.routes)
        self._gateway.start()
        sqs = self.client("sqs")
        self.pumps = [
            QueuePump(m, sqs, self.invoke, region=REGION, pollers=self.pollers, time_scale=self.time_scale)
            for m in self.queue_mappings
        ]
        if self.run_pumps:
            for pump in self.pumps:
                pump.start()
        schedule_scale = self.time_scale if self.schedule_scale is None else self.schedule_scale
        self._scheduler = Scheduler(self.schedules, self.invoke, time_scale=schedule_scale)
        if self.run_schedules:
            self._scheduler.start()
        return self

    def update_secret_json(self, logical_id: str, values: dict[str, str]) -> None:
        """Merge keys into a JSON secret of the stack, as an operator fills in the app's credentials."""
        client = self.client("secretsmanager")
        secret_id = self.physical[logical_id]
        current = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])
        client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(current | values))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once every mapped queue is drained (in-flight batches included)."""
        return all(pump.wait_idle(timeout) for pump in self.pumps)

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
        for pump in self.pumps:
            pump.stop()
        if self._gateway is not None:
            self._gateway.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
