"""hubbooks: keeps a HubSpot account and a QuickBooks Online company in sync."""

__version__ = "0.1.0"
