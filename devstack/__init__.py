"""Runs template.yaml on one machine: moto for AWS, a local HTTP API gateway, an SQS pump, schedules."""

from devstack.stack import Devstack

__all__ = ["Devstack"]
