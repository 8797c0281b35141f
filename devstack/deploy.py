"""Packages, transforms and deploys a SAM template into moto's CloudFormation."""

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

ARTIFACT_BUCKET = "devstack-artifacts"

# Resources devstack plays itself: moto skips API Gateway v2 and Scheduler, event source mappings
# without Docker either fail or swallow messages (see DESIGN.md, "Measured facts for devstack"), and
# moto's CloudFormation has no CloudWatch alarms or Secrets Manager secrets (devstack.complete creates
# them through the APIs; references to a secret become its name, which every secrets API accepts).
_PLAYED_BY_DEVSTACK_PREFIXES = (
    "AWS::ApiGatewayV2::",
    "AWS::Scheduler::",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Permission",
    "AWS::CloudWatch::Alarm",
    "AWS::SecretsManager::Secret",
)
_CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


class DeployError(RuntimeError):
    """The stack did not reach CREATE_COMPLETE in moto."""


def _zip_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def package_code(template: dict[str, Any], template_dir: Path, s3: Any) -> dict[str, Path]:
    """Upload each local CodeUri/ContentUri as a zip to moto's S3 and point the template at it.

    Returns the local directory behind each uploaded S3 key.
    """
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    global_code = template.get("Globals", {}).get("Function", {}).get("CodeUri")
    local_dirs: dict[str, Path] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        prop = _CODE_PROPERTIES.get(resource.get("Type", ""))
        if prop is None:
            continue
        properties = resource.setdefault("Properties", {})
        uri = properties.get(prop, global_code)
        if not isinstance(uri, str) or uri.startswith("s3://"):
            continue
        directory = (template_dir / uri).resolve()
        if not directory.is_dir():
            raise DeployError(f"{logical_id}: {prop} {uri!r} is not a directory next to the template")
        key = f"{logical_id}.zip"
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=_zip_directory(directory))
        properties[prop] = f"s3://{ARTIFACT_BUCKET}/{key}"
        local_dirs[key] = directory
    return local_dirs


def transform_template(template: dict[str, Any], parameters: dict[str, str], iam: Any) -> dict[str, Any]:
    """Run aws-sam-translator, as CloudFormation's Serverless transform would."""
    loader = ManagedPolicyLoader(iam)
    transformed: dict[str, Any] = transform(copy.deepcopy(template), dict(parameters), loader)
    return transformed


def _references(value: Any) -> set[str]:
    """Logical ids referenced anywhere inside a template fragment."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt" and isinstance(inner, list) and inner:
                found.add(str(inner[0]))
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(part.split("}")[0].split(".")[0] for part in str(text).split("${")[1:])
            found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def _substitute(value: Any, literals: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in literals:
            return literals[value["Ref"]]
        return {k: _substitute(v, literals) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, literals) for v in value]
    return value


def deployable(transformed: dict[str, Any], literals: dict[str, str] | None = None) -> dict[str, Any]:
    """The transformed template minus what devstack plays itself, and whatever depended on it.

    `literals` replaces references to resources devstack creates itself with their known names.
    """
    result: dict[str, Any] = _substitute(copy.deepcopy(transformed), literals or {})
    resources: dict[str, Any] = result["Resources"]
    removed = {
        logical_id
        for logical_id, resource in resources.items()
        if str(resource.get("Type", "")).startswith(_PLAYED_BY_DEVSTACK_PREFIXES)
    }
    for logical_id in removed:
        del resources[logical_id]
    for resource in resources.values():
        depends = resource.get("DependsOn")
        if isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in removed]
        elif isinstance(depends, str) and depends in removed:
            del resource["DependsOn"]
    outputs = result.get("Outputs", {})
    for name in [n for n, output in outputs.items() if _references(output) & removed]:
        del outputs[name]
    return result


def create_stack(cfn: Any, stack_name: str, template: dict[str, Any], parameters: dict[str, str]) -> None:
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    if status != "CREATE_COMPLETE":
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
        reasons = [e.get("ResourceStatusReason") for e in events if e.get("ResourceStatusReason")]
        raise DeployError(f"stack {stack_name} ended {status}: {reasons}")


def physical_ids(cfn: Any, stack_name: str) -> dict[str, str]:
    resources = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }
