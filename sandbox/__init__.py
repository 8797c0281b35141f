"""Faithful emulators of the HubSpot and QuickBooks Online APIs, for tests, the demo and benchmarks."""
